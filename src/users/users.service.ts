import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { isValidObjectId, Model, trusted } from 'mongoose';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-codes';
import { newCredentialStamp } from './authenticated-user';
import { PasswordHasher } from './password-hasher';
import { passwordProblem } from './password-policy';
import { User, UserDocument, UserRole } from './user.schema';

export interface NewUser {
  email: string;
  password: string;
  name?: string;
  role?: UserRole;
}

const DUPLICATE_KEY = 11000;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Matches a credential stamp; accounts created before stamps existed have none, which counts as the empty one. */
function stampIs(stamp: string) {
  return stamp === '' ? trusted({ $in: ['', null] }) : stamp;
}

@Injectable()
export class UsersService implements OnModuleInit {
  constructor(
    @InjectModel(User.name) private readonly users: Model<User>,
    private readonly hasher: PasswordHasher,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.users.createIndexes();
  }

  findById(id: string): Promise<UserDocument | null> {
    return isValidObjectId(id) ? this.users.findById(id).exec() : Promise.resolve(null);
  }

  /**
   * The account's disabled flag and credential stamp as they are now, read from
   * the primary (a secondary may not have seen a change that just answered).
   */
  async currentCredentials(id: string): Promise<{ disabled: boolean; stamp: string } | null> {
    if (!isValidObjectId(id)) return null;
    const user = await this.users.findById(id, { disabled: 1, credentialStamp: 1 }).read('primary').lean().exec();
    return user && { disabled: user.disabled, stamp: user.credentialStamp ?? '' };
  }

  findByEmailWithPasswordHash(email: string): Promise<UserDocument | null> {
    return this.users.findOne({ email: email.trim().toLowerCase() }).select('+passwordHash').exec();
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
   * Applies the given changes, with `stamp` as the new credential stamp when
   * given; null when there is no such user. An update then a read, not
   * findOneAndUpdate: FerretDB cannot project inside findAndModify.
   */
  async update(id: string, changes: Partial<Pick<User, 'disabled' | 'role' | 'name'>>, stamp?: string): Promise<UserDocument | null> {
    if (!isValidObjectId(id)) return null;
    const set = stamp === undefined ? changes : { ...changes, credentialStamp: stamp, endingStaleSessions: true };
    await this.users.updateOne({ _id: id }, { $set: set }, { runValidators: true }).exec();
    return this.users.findById(id).exec();
  }

  /** Every session under a stamp other than `stamp` has ended (unless the stamp has moved on since). */
  async staleSessionsEnded(id: string, stamp: string): Promise<void> {
    await this.users.updateOne({ _id: id, credentialStamp: stamp }, { $unset: { endingStaleSessions: 1 } }).exec();
  }

  /** Accounts whose last credential change may have left sessions under an older stamp, with their stamp now. */
  async withStaleSessionsPending(): Promise<{ id: string; stamp: string }[]> {
    const users = await this.users.find({ endingStaleSessions: true }, { credentialStamp: 1 }).read('primary').lean().exec();
    return users.map((user) => ({ id: String(user._id), stamp: user.credentialStamp ?? '' }));
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
        { $set: { passwordHash, credentialStamp: stamp, endingStaleSessions: true } },
      )
      .exec();
    return result.matchedCount === 1;
  }

  async adminExists(): Promise<boolean> {
    return (await this.users.exists({ role: 'admin' })) !== null;
  }

  async emailExists(email: string): Promise<boolean> {
    return (await this.users.exists({ email: email.trim().toLowerCase() })) !== null;
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
