import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { isValidObjectId, Model, trusted, Types } from 'mongoose';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-codes';
import { newCredentialStamp } from './authenticated-user';
import { PasswordHasher } from './password-hasher';
import { passwordProblem } from './password-policy';
import { DeviceCounter, User, UserDocument, UserRole } from './user.schema';
import type { AccountEvent, ChangeCause, UserChangeSubscriber } from './user-changes';
import { DUPLICATE_KEY } from '../database/database.constants';

export interface NewUser {
  email: string;
  password: string;
  name?: string;
  role?: UserRole;
}

export type UserChanges = Partial<Pick<User, 'disabled' | 'role' | 'name'>>;

/** An admin's credential change: its new stamp, why, what the audit trail records of it, and (under AccountRolesLock) the check that the lock is still held. */
export interface CredentialChange {
  stamp: string;
  cause: ChangeCause;
  /** Written with the change, in the same command (User.pendingEvents). */
  events?: AccountEvent[];
  confirm?: () => Promise<void>;
}

/** An admin who can sign in; the console needs one at all times. */
const ACTIVE_ADMIN = { role: 'admin' as const, disabled: trusted({ $ne: true }) };

function isActiveAdmin(user: Pick<User, 'role' | 'disabled'>): boolean {
  return user.role === 'admin' && user.disabled !== true;
}

/** Whether `changes` would make the active admin `before` a user or disabled. */
export function takesAwayActiveAdmin(before: Pick<User, 'role' | 'disabled'>, changes: UserChanges): boolean {
  return isActiveAdmin(before) && !isActiveAdmin({ role: changes.role ?? before.role, disabled: changes.disabled ?? before.disabled });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Where a known browser's sign-in counter lives on its account. */
function deviceCounterPath(device: string): string {
  // Device ids come from a signed cookie and are base64url; anything else must not reach a field path.
  if (!/^[\w-]+$/.test(device)) throw new Error('A device id is base64url');
  return `signInDevices.${device}`;
}

function normalisedEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * What an account's credential changes have yet to finish, read together:
 * the stamps they replaced while sessions may still be under them, the stamp
 * in force, and the audit events of changes written but not yet recorded
 * (each with the string it is stored as, to remove exactly that one).
 */
export interface UnfinishedChanges {
  id: string;
  stale: string[];
  current: string;
  events: { event: AccountEvent; stored: string }[];
}

const UNFINISHED_PROJECTION = { staleStamps: 1, credentialStamp: 1, pendingEvents: 1 };
/** An admin's credential change that finds the stamp moved this many times in a row gives up (each miss is another change landing). */
const CREDENTIAL_WRITE_ATTEMPTS = 3;

function toUnfinishedChanges(user: Pick<User, 'staleStamps' | 'credentialStamp' | 'pendingEvents'> & { _id: unknown }): UnfinishedChanges {
  return {
    id: String(user._id),
    stale: user.staleStamps ?? [],
    current: user.credentialStamp ?? '',
    events: (user.pendingEvents ?? []).flatMap((stored) => {
      const event = parsedAccountEvent(stored);
      return event ? [{ event, stored }] : [];
    }),
  };
}

/** Only JSON.stringify writes these: one edited by hand into something else is left out, not allowed to stop the expiry pass for every account. */
function parsedAccountEvent(stored: string): AccountEvent | undefined {
  try {
    return JSON.parse(stored) as AccountEvent;
  } catch {
    return undefined;
  }
}

/** Matches a credential stamp; accounts created before stamps existed have none, which counts as the empty one. */
function stampIs(stamp: string) {
  return stamp === '' ? trusted({ $in: ['', null] }) : stamp;
}

@Injectable()
export class UsersService implements OnModuleInit {
  private readonly subscribers: UserChangeSubscriber[] = [];

  constructor(
    @InjectModel(User.name) private readonly users: Model<User>,
    private readonly hasher: PasswordHasher,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.users.createIndexes();
  }

  /** `subscriber` hears of every change to what sessions copy of a user (see UserChangeSubscriber). */
  subscribe(subscriber: UserChangeSubscriber): void {
    this.subscribers.push(subscriber);
  }

  findById(id: string): Promise<UserDocument | null> {
    return isValidObjectId(id) ? this.users.findById(id).exec() : Promise.resolve(null);
  }

  /**
   * The account's disabled flag and credential stamp as they are now, read from
   * the primary (a secondary may not have seen a change that just answered).
   * With `settling`, the read also gives that known browser's sign-in counter
   * its point back (LoginThrottleService): one command for both.
   */
  async currentCredentials(id: string, settling?: string): Promise<{ disabled: boolean; stamp: string } | null> {
    if (!isValidObjectId(id)) return null;
    const user = settling
      ? // The driver's own call: mongoose would project the unselected fields, which FerretDB cannot do inside findAndModify.
        await this.users.collection.findOneAndUpdate({ _id: new Types.ObjectId(id) }, { $unset: { [deviceCounterPath(settling)]: '' } })
      : await this.users.findById(id, { disabled: 1, credentialStamp: 1 }).read('primary').lean().exec();
    return user && { disabled: user.disabled === true, stamp: user.credentialStamp ?? '' };
  }

  /**
   * Counts a password check on the account's known browser `device`, and
   * returns the account with its password hash: one command. Counted only
   * while that device's counter is absent, or live and under `limit`; null
   * otherwise, or when there is no such account (`deviceCounter` tells which).
   */
  async countDeviceCheck(email: string, device: string, { limit, now, expire }: { limit: number; now: Date; expire: Date }) {
    const path = deviceCounterPath(device);
    const user = await this.users.collection.findOneAndUpdate(
      {
        email: normalisedEmail(email),
        $or: [{ [path]: { $exists: false } }, { [`${path}.points`]: { $lt: limit }, [`${path}.expire`]: { $gt: now } }],
      },
      { $inc: { [`${path}.points`]: 1 }, $set: { [`${path}.expire`]: expire } },
      { returnDocument: 'after' },
    );
    return user && this.users.hydrate(user);
  }

  /** Starts the device's counter over at one check if it has lapsed (else null), and returns the account as countDeviceCheck does. */
  async restartDeviceCount(email: string, device: string, { now, expire }: { now: Date; expire: Date }) {
    const path = deviceCounterPath(device);
    const user = await this.users.collection.findOneAndUpdate(
      { email: normalisedEmail(email), [`${path}.expire`]: { $lte: now } },
      { $set: { [path]: { points: 1, expire } } },
      { returnDocument: 'after' },
    );
    return user && this.users.hydrate(user);
  }

  /** The device's counter as the primary has it: null when it has none, undefined when there is no such account. */
  async deviceCounter(email: string, device: string): Promise<DeviceCounter | null | undefined> {
    const user = await this.users
      .findOne({ email: normalisedEmail(email) })
      .select('+signInDevices')
      .read('primary')
      .lean()
      .exec();
    if (!user) return undefined;
    return user.signInDevices?.[device] ?? null;
  }

  /**
   * Marks the device's lock that ends at `until` as recorded (login.locked),
   * unless a lock recorded earlier is still on at `now`: the account for the
   * one call that marked it, else null (LoginThrottleService).
   */
  async markDeviceLock(email: string, device: string, { until, now }: { until: Date; now: Date }) {
    const path = deviceCounterPath(device);
    // No projection: FerretDB cannot project inside findAndModify.
    const user = await this.users.collection.findOneAndUpdate(
      { email: normalisedEmail(email), [`${path}.expire`]: until, [`${path}.lockRecordedUntil`]: { $not: { $gt: now } } },
      { $set: { [`${path}.lockRecordedUntil`]: until } },
    );
    return user && { id: String(user._id), email: user.email };
  }

  /** The account's id and address, or null: whom an account's lock names. */
  async accountOf(email: string): Promise<{ id: string; email: string } | null> {
    const user = await this.users
      .findOne({ email: normalisedEmail(email) }, { email: 1 })
      .lean()
      .exec();
    return user && { id: String(user._id), email: user.email };
  }

  /** The password was right on a known browser that gets no session now: its counter starts over. */
  async settleDevice(id: string, device: string): Promise<void> {
    await this.users.updateOne({ _id: id }, { $unset: { [deviceCounterPath(device)]: '' } }).exec();
  }

  findByEmailWithPasswordHash(email: string): Promise<UserDocument | null> {
    return this.users
      .findOne({ email: normalisedEmail(email) })
      .select('+passwordHash')
      .exec();
  }

  /** A page of users, optionally those whose email starts with `emailPrefix` (served by the unique email index). */
  async findPage(emailPrefix: string | undefined, { page, pageSize }: { page: number; pageSize: number }) {
    const filter = emailPrefix ? { email: new RegExp(`^${escapeRegExp(emailPrefix.trim().toLowerCase())}`) } : {};
    const [items, total] = await Promise.all([
      this.users
        .find(filter)
        .sort({ email: 1 })
        .skip((page - 1) * pageSize)
        .limit(pageSize)
        .exec(),
      this.users.countDocuments(filter).exec(),
    ]);
    return { items, total };
  }

  /** Emails by user id, for labelling lists of sessions or events. */
  async emailsByIds(ids: string[]): Promise<Map<string, string>> {
    const valid = [...new Set(ids)].filter((id) => isValidObjectId(id));
    if (valid.length === 0) return new Map();
    const users = await this.users.find({ _id: trusted({ $in: valid }) }, { email: 1 }).exec();
    return new Map(users.map((user) => [user.id as string, user.email]));
  }

  count(): Promise<number> {
    return this.users.estimatedDocumentCount().exec();
  }

  /**
   * Applies the given changes to the account read as `before`; null when there
   * is no such user. `credentials`: the change is a credential change (role,
   * disabled) to a new stamp, published to the subscribers before the write
   * (and before a retried one: writeCredentials) and after it (then the
   * replaced stamp is settled); a name change is published once written. An
   * update then a read, not findOneAndUpdate: FerretDB cannot project inside
   * findAndModify. Role and disabled changes run one at a time
   * (AccountRolesLock, held by the caller), so `before` is what they replace;
   * `credentials.confirm` checks the lock is still held before each write.
   */
  async update(before: UserDocument, changes: UserChanges, credentials?: CredentialChange): Promise<UserDocument | null> {
    const id = before.id as string;
    if (!isValidObjectId(id)) return null;
    if (credentials) {
      await this.credentialsChanging(id, credentials);
      if (!(await this.writeCredentials(id, before.credentialStamp ?? '', changes, credentials))) return null;
      await this.credentialsChanged(id, credentials);
    } else {
      await this.users.updateOne({ _id: id }, { $set: changes }, { runValidators: true }).exec();
    }
    const after = await this.users.findById(id).exec();
    if (after && after.name !== before.name) for (const subscriber of this.subscribers) await subscriber.profileChanged(after);
    return after;
  }

  /**
   * Writes an admin's credential change under `stamp`, listing the stamp it
   * replaces: the write applies only while the account's stamp is still the
   * one read, so the listed stamp is the one replaced, also when the user
   * changed their password since it was read (else sessions under that
   * password's stamp would never be listed for the expiry pass). On a miss the
   * stamp is read again, and the sessions are ended again before the next try
   * (those of the change that landed were not ended yet). False when the
   * account is gone; SYS_9002 when other changes kept landing in between.
   */
  private async writeCredentials(id: string, expectedStamp: string, changes: UserChanges, credentials: CredentialChange): Promise<boolean> {
    const { stamp, confirm, events = [] } = credentials;
    const pending = events.length > 0 ? { pendingEvents: { $each: events.map((event) => JSON.stringify(event)) } } : {};
    let replacedStamp = expectedStamp;
    for (let attempt = 0; attempt < CREDENTIAL_WRITE_ATTEMPTS; attempt++) {
      if (attempt > 0) await this.credentialsChanging(id, credentials);
      await confirm?.();
      const result = await this.users
        .updateOne(
          { _id: id, credentialStamp: stampIs(replacedStamp) },
          { $set: { ...changes, credentialStamp: stamp }, $addToSet: { staleStamps: replacedStamp, ...pending } },
          { runValidators: true },
        )
        .exec();
      if (result.matchedCount === 1) return true;
      const now = await this.users.findById(id, { credentialStamp: 1 }).read('primary').lean().exec();
      if (!now) return false;
      replacedStamp = now.credentialStamp ?? '';
    }
    throw new AppException(ErrorCode.DEPENDENCY_UNAVAILABLE);
  }

  private async credentialsChanging(id: string, { stamp, cause }: CredentialChange): Promise<void> {
    for (const subscriber of this.subscribers) await subscriber.credentialsChanging(id, stamp, cause);
  }

  private async credentialsChanged(id: string, { cause }: CredentialChange): Promise<void> {
    for (const subscriber of this.subscribers) await subscriber.credentialsChanged(id, cause);
  }

  /** RES_3002 unless an active admin other than `id` exists (the primary's view). */
  async assertAnotherActiveAdmin(id: string): Promise<void> {
    const other = await this.users
      .exists({ ...ACTIVE_ADMIN, _id: trusted({ $ne: new Types.ObjectId(id) }) })
      .read('primary')
      .exec();
    if (other === null) throw new AppException(ErrorCode.LAST_ACTIVE_ADMIN);
  }

  /** Whether the account is an admin who can sign in (the primary's view). */
  async isActiveAdmin(id: string): Promise<boolean> {
    if (!isValidObjectId(id)) return false;
    return (
      (await this.users
        .exists({ ...ACTIVE_ADMIN, _id: new Types.ObjectId(id) })
        .read('primary')
        .exec()) !== null
    );
  }

  /** The account may have a second factor from now on (before one is added); see UserDocument.secondFactors. */
  async mayHaveSecondFactors(id: string): Promise<void> {
    await this.users.updateOne({ _id: id }, { $set: { secondFactors: true }, $inc: { secondFactorsVersion: 1 } }).exec();
  }

  /** The version `clearSecondFactors` needs, read before counting what is left. */
  async secondFactorsVersion(id: string): Promise<number> {
    const user = await this.users.findById(id).select('secondFactorsVersion').read('primary').lean().exec();
    return user?.secondFactorsVersion ?? 0;
  }

  /** The account has no second factor: unless one was being added since `version` was read. */
  async clearSecondFactors(id: string, version: number): Promise<void> {
    await this.users.updateOne({ _id: id, secondFactorsVersion: version }, { $set: { secondFactors: false } }).exec();
  }

  /** Every session under the `stale` stamps has ended: the expiry pass need not look for them. */
  async staleSessionsEnded(id: string, stale: string[]): Promise<void> {
    // $pullAll, not $pull with $in: FerretDB takes the $in document for a value to remove.
    await this.users.updateOne({ _id: id }, { $pullAll: { staleStamps: stale } }).exec();
  }

  /** The audit events `stored` are recorded: the account no longer lists them (see UnfinishedChanges). */
  async accountEventsRecorded(id: string, stored: string[]): Promise<void> {
    await this.users.updateOne({ _id: id }, { $pullAll: { pendingEvents: stored } }).exec();
  }

  /** Accounts whose credential changes have something left to finish (see UnfinishedChanges). */
  async withUnfinishedChanges(): Promise<UnfinishedChanges[]> {
    // `$type` matches an element, so accounts with empty lists are not read (and on MongoDB each clause has its multikey index).
    const users = await this.users
      .find(
        { $or: [{ staleStamps: trusted({ $type: 'string' }) }, { pendingEvents: trusted({ $type: 'string' }) }] },
        UNFINISHED_PROJECTION,
      )
      .read('primary')
      .lean()
      .exec();
    return users.map(toUnfinishedChanges);
  }

  /** One account's UnfinishedChanges; null when it is gone. */
  async unfinishedChanges(id: string): Promise<UnfinishedChanges | null> {
    if (!isValidObjectId(id)) return null;
    const user = await this.users.findById(id, UNFINISHED_PROJECTION).read('primary').lean().exec();
    return user && toUnfinishedChanges(user);
  }

  /** Throws VAL_2001 naming `newPassword` when the password policy refuses it. */
  assertAcceptablePassword(password: string, email: string): void {
    const problem = passwordProblem(password, email);
    if (problem) throw new AppException(ErrorCode.INVALID_INPUT, { fields: { newPassword: problem } });
  }

  /**
   * Replaces the password hash after the policy check, and the credential stamp
   * with `stamp`, only while the stamp is still `expectedStamp` (the one the
   * current password was proved under): false when another change came first.
   */
  async setPassword(user: UserDocument, password: string, expectedStamp: string, stamp: string): Promise<boolean> {
    this.assertAcceptablePassword(password, user.email);
    const passwordHash = await this.hasher.hash(password);
    const result = await this.users
      .updateOne(
        { _id: user._id, credentialStamp: stampIs(expectedStamp) },
        { $set: { passwordHash, credentialStamp: stamp }, $addToSet: { staleStamps: expectedStamp } },
      )
      .exec();
    return result.matchedCount === 1;
  }

  /**
   * A credential change that lives outside the account (its second factors):
   * the stamp becomes `stamp`, only while it is still `expectedStamp`; false
   * when another change came first.
   */
  async replaceStamp(id: string, expectedStamp: string, stamp: string): Promise<boolean> {
    if (!isValidObjectId(id)) return false;
    const result = await this.users
      .updateOne(
        { _id: id, credentialStamp: stampIs(expectedStamp) },
        { $set: { credentialStamp: stamp }, $addToSet: { staleStamps: expectedStamp } },
      )
      .exec();
    return result.matchedCount === 1;
  }

  async adminExists(): Promise<boolean> {
    return (await this.users.exists({ role: 'admin' })) !== null;
  }

  async emailExists(email: string): Promise<boolean> {
    return (await this.users.exists({ email: normalisedEmail(email) })) !== null;
  }

  /** Refuses a weak password or a taken email with VAL_2001 naming the field. */
  async create(input: NewUser): Promise<UserDocument> {
    const problem = passwordProblem(input.password, input.email);
    if (problem) throw new AppException(ErrorCode.INVALID_INPUT, { fields: { password: problem } });
    try {
      return await this.users.create({
        email: input.email,
        name: input.name ?? '',
        role: input.role ?? 'user',
        passwordHash: await this.hasher.hash(input.password),
        credentialStamp: newCredentialStamp(),
      });
    } catch (error) {
      if ((error as { code?: number }).code === DUPLICATE_KEY) {
        throw new AppException(ErrorCode.INVALID_INPUT, { fields: { email: 'is already registered' } });
      }
      throw error;
    }
  }
}
