import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectConnection } from '@nestjs/mongoose';
import { AnyBulkWriteOperation, Collection, MongoBulkWriteError } from 'mongodb';
import type { Connection } from 'mongoose';
import { createHash } from 'node:crypto';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-codes';
import { isDatabaseUnavailable } from '../common/errors/error-mapping';
import type { AppConfiguration } from '../config/configuration';
import { ExpirySweeper } from '../database/expiry-sweeper.service';
import type { LockoutCounter } from '../metrics/metrics.service';
import { FailedAttempt, SessionEventsService } from '../session-events/session-events.service';
import type { UserDocument } from '../users/user.schema';
import { UsersService } from '../users/users.service';
import { DUPLICATE_KEY } from '../database/database.constants';

export const LOGIN_FAILURES_COLLECTION = 'login_failures';
const MS_PER_SECOND = 1000;
/**
 * Rounds a consume may take when its statements meet a concurrent first attempt
 * (parallel upserts of one new IP counter: all but one collide on `_id`), a
 * lapsed counter, or one deleted meanwhile. Each such round means another writer
 * made progress, so contention settles in two or three; past this it is an
 * outage-like condition.
 */
const CONSUME_ROUNDS = 6;
/** How long an attempt that met an outage waits for the IP's point to be given back before answering. */
const OUTAGE_GIVE_BACK_WAIT_MS = 500;

/** A counter at its limit until `expire`; `lockRecordedUntil`: the end of the last lock recorded on it (login.locked). */
interface Lock {
  expire: Date;
  lockRecordedUntil?: Date;
}

interface CounterDocument extends Lock {
  _id: string;
  points: number;
}

interface Counter {
  kind: Extract<LockoutCounter, 'account' | 'ip'>;
  key: string;
  limit: number;
}

/** What a lock's mark answers: false when another refusal marked it first, else the account its event names (none for an IP). */
type LockMark = false | { account?: FailedAttempt };

/** Who is signing in, as the counters know them. */
export interface SignInAttempt {
  email: string;
  ip: string;
  /** The device id of a valid device cookie for this account (DeviceCookieService), if the browser showed one. */
  device?: string;
}

/** A known browser's attempt: its device cookie is valid for the account. */
export type KnownBrowserAttempt = SignInAttempt & { device: string };

/** Failed sign-ins a trusted device may make before its device cookie is refused too. */
export const DEVICE_MAX_FAILURES = 3;

/**
 * Sign-in attempts counted per account and per client IP in MongoDB, so every
 * instance sees the same counts. An attempt is counted *before* its password is
 * checked, both counters in one command, each count an atomic conditional
 * update (`points < limit`; see `count`): however many attempts arrive at
 * once, at most `limit` of them get their password checked, the rest get
 * AUTH_1006 with Retry-After. A success gives its points back (the account's counter starts
 * over; the IP's loses this attempt), so only failures add up. The count lapses
 * LOGIN_LOCK_MINUTES after the last counted attempt; a lock lasts that long
 * from the attempt that reached the limit.
 *
 * An attempt refused by either counter is counted by neither. The command is
 * an ordered write, IP statement first: a refusal by the IP's counter stops it
 * before the account's statement, so an IP past its limit adds nothing to any
 * account (the per-IP limit bounds how many account counters one IP can
 * touch); a refusal by the account's counter gives the IP its point back. The
 * order decides who can hurt whom while an attempt is between the two steps
 * (or if giving the point back fails): IP first, the one transiently (or, on a
 * failure, until it lapses) charged is the IP that made the refused attempt,
 * that is the attacker's own budget. Account first, an IP over its limit would
 * charge its victim's account, so a flood from an already locked-out IP could
 * still lock the owner out (transiently, or for good on a failure).
 *
 * A known browser (a valid device cookie of the account) is counted on its
 * own device counter alone, kept on the account (consumeOnDevice): counting
 * and reading the password hash are one command, and the point goes back with
 * the read that follows its session's insert. Not on the IP's counter: a
 * device cookie names one account and is issued only once its password was
 * proved, so it cannot spread guesses over accounts, which is what the IP's
 * limit is for; and the owner gets in while a shared office IP is locked.
 *
 * A refused attempt is counted in a metric, and a lock is recorded once
 * (login.locked) per counter and lock, however many attempts it refuses: by
 * the refusal whose conditional write marks the counter with the lock's end
 * (see `refused`).
 *
 * Not rate-limiter-flexible: it spends one findAndModify per key and has no
 * multi-key consume, which doubles the database work of every sign-in.
 */
@Injectable()
export class LoginThrottleService implements OnModuleInit {
  private readonly logger = new Logger(LoginThrottleService.name);
  private readonly maxPerAccount: number;
  private readonly maxPerIp: number;
  private readonly lockMs: number;

  constructor(
    @InjectConnection() private readonly connection: Connection,
    private readonly sweeper: ExpirySweeper,
    private readonly users: UsersService,
    private readonly events: SessionEventsService,
    config: ConfigService<AppConfiguration, true>,
  ) {
    const security = config.get('security', { infer: true });
    this.maxPerAccount = security.loginMaxFailures;
    this.maxPerIp = security.loginMaxFailuresPerIp;
    this.lockMs = security.loginLockMs;
  }

  async onModuleInit(): Promise<void> {
    await this.sweeper.expireBy(this.collection() as unknown as Collection, 'expire');
  }

  /**
   * Counts the attempt against both limits, or throws AUTH_1006 when a counter
   * is at its limit (and then neither counts it). Contention alone never gives
   * AUTH_1006: the statements that met a concurrent first attempt or a lapsed
   * counter run again, and contention that does not settle is a 503 SYS_9002
   * (the database is not behaving; no counter was at its limit), never a lock.
   * Database errors propagate as they are: an outage is not a lock either.
   */
  async consume(attempt: SignInAttempt): Promise<void> {
    const [account, ip] = this.counters(attempt);
    let ipCounted = false;
    try {
      for (let round = 1; ; round++) {
        const outcome = await this.count(ipCounted ? undefined : ip, account);
        if (outcome === 'counted') return;
        const refused = outcome === 'ip refused' ? ip : account;
        // The account refused: the IP's statement ran and counted it (this round or an earlier one).
        ipCounted ||= refused === account;
        // The refusal came from the primary; a secondary may not have the counter yet.
        const document = await this.collection().findOne({ _id: refused.key }, { readPreference: 'primary' });
        const now = Date.now();
        if (document && document.expire.getTime() > now && document.points >= refused.limit) {
          throw await this.refused(refused.kind, document, now, () => this.markLock(refused, document, now, attempt.email));
        }
        if (round === CONSUME_ROUNDS) throw new AppException(ErrorCode.DEPENDENCY_UNAVAILABLE);
        // Not at its limit: a concurrent first attempt created the counter (the next round counts on it),
        // it was deleted meanwhile (the next round creates it), or it lapsed before the sweep removed it.
        if (document && document.expire.getTime() <= now) {
          await this.collection().deleteOne({ _id: refused.key, expire: { $lte: new Date(now) } });
        }
      }
    } catch (error) {
      // Counted by the IP but not by the account (refused, or a failure after the IP's step): the IP gets its point back.
      if (ipCounted) await this.giveBack(ip, isDatabaseUnavailable(error));
      throw error;
    }
  }

  /**
   * Counts a known browser's attempt on its device's counter (DEVICE_MAX_FAILURES)
   * and returns the account with its password hash, or throws AUTH_1006 when
   * the counter is at its limit. Null when there is no such account: the
   * caller counts the attempt like a stranger's (`consume`), so a missing
   * account costs what a wrong password does. Contention is handled as in
   * `consume`: another round, and 503 SYS_9002 if it never settles.
   */
  async consumeOnDevice({ email, device }: KnownBrowserAttempt): Promise<UserDocument | null> {
    for (let round = 1; ; round++) {
      const now = new Date();
      const expire = new Date(now.getTime() + this.lockMs);
      const counted = await this.users.countDeviceCheck(email, device, { limit: DEVICE_MAX_FAILURES, now, expire });
      if (counted) return counted;
      const counter = await this.users.deviceCounter(email, device);
      if (counter === undefined) return null;
      const checkedAt = Date.now();
      if (counter && counter.expire.getTime() > checkedAt && counter.points >= DEVICE_MAX_FAILURES) {
        throw await this.refused('device', counter, checkedAt, async () => {
          const user = await this.users.markDeviceLock(email, device, { until: counter.expire, now: new Date(checkedAt) });
          return user ? { account: { email, user } } : false;
        });
      }
      // Lapsed: starts over. Otherwise a success reset it or a concurrent first attempt created it: the next round counts.
      if (counter && counter.expire.getTime() <= checkedAt) {
        const restarted = await this.users.restartDeviceCount(email, device, { now: new Date(checkedAt), expire });
        if (restarted) return restarted;
      }
      if (round === CONSUME_ROUNDS) throw new AppException(ErrorCode.DEPENDENCY_UNAVAILABLE);
    }
  }

  /** The password was right: the account's counter starts over and the IP's gets this attempt back. */
  async succeeded(attempt: SignInAttempt): Promise<void> {
    const [account, ip] = this.counters(attempt);
    await this.collection().bulkWrite(
      [
        { updateOne: { filter: { _id: account.key }, update: { $set: { points: 0 } } } },
        { updateOne: { filter: { _id: ip.key, points: { $gt: 0 } }, update: { $inc: { points: -1 } } } },
      ],
      { ordered: false },
    );
  }

  /**
   * The password was right but a second step follows: this attempt's points
   * go back, and nothing more. The account's earlier failures (wrong codes
   * among them) stay counted until the second step succeeds, so knowing the
   * password never starts the count over between code guesses.
   */
  async refund(attempt: SignInAttempt): Promise<void> {
    const [account, ip] = this.counters(attempt);
    await this.collection().bulkWrite(
      [account, ip].map(({ key }) => ({ updateOne: { filter: { _id: key, points: { $gt: 0 } }, update: { $inc: { points: -1 } } } })),
      { ordered: false },
    );
  }

  /**
   * The password was right on a known browser that gets no session now: its
   * counter starts over. One that gets a session has its point given back by
   * the session's credential re-read instead (UsersService.currentCredentials).
   */
  async deviceSucceeded(userId: string, device: string): Promise<void> {
    await this.users.settleDevice(userId, device);
  }

  /**
   * One ordered write (one command): the IP's statement, when `ip` is given,
   * then the account's two. The IP's is a conditional upsert:
   * refused (at its limit, lapsed, or a concurrent first attempt created it),
   * it fails with a duplicate key and the write stops before the account's
   * statements. The account's never fail: one makes sure the counter exists
   * (an upsert by `_id` alone, which MongoDB retries itself on a duplicate
   * key), the other counts the attempt if `points < limit` and the count has
   * not lapsed (no upsert), and the statements' `n` says whether it did. So
   * the only statement that can fail is the first one, which matters on
   * FerretDB 1.24: it reports any failed statement of an update at index 0
   * with no counts, whatever ran before it.
   */
  private async count(ip: Counter | undefined, account: Counter): Promise<'counted' | 'ip refused' | 'account refused'> {
    const now = new Date();
    const expire = new Date(now.getTime() + this.lockMs);
    const conditional = ({ key, limit }: Counter) => ({ _id: key, points: { $lt: limit }, expire: { $gt: now } });
    const operations: AnyBulkWriteOperation<CounterDocument>[] = [
      ...(ip ? [{ updateOne: { filter: conditional(ip), update: { $inc: { points: 1 }, $set: { expire } }, upsert: true } }] : []),
      { updateOne: { filter: { _id: account.key }, update: { $setOnInsert: { points: 0, expire } }, upsert: true } },
      { updateOne: { filter: conditional(account), update: { $inc: { points: 1 }, $set: { expire } } } },
    ];
    try {
      const result = await this.collection().bulkWrite(operations, { ordered: true });
      // Every statement matched or created its counter, the account's count included; else that one was refused.
      return result.matchedCount + result.upsertedCount === operations.length ? 'counted' : 'account refused';
    } catch (error) {
      if (!(error instanceof MongoBulkWriteError)) throw error;
      const errors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
      // No write error: the driver wrapped its own (a network error, no server): that one, so an outage reads as one.
      if (errors.length === 0 && error.errorResponse instanceof Error) throw error.errorResponse;
      if (errors.length !== 1 || errors[0].code !== DUPLICATE_KEY) throw error;
      // The IP's statement refused. Or the account's first statement collided with a concurrent first
      // attempt, which MongoDB retries itself and FerretDB's write lock rules out: contention, like a
      // refusal of the account's count (MongoDB names its index; nothing of the account ran).
      return ip && errors[0].index === 0 ? 'ip refused' : 'account refused';
    }
  }

  /**
   * Takes back the point the IP's statement counted for an attempt that was
   * then refused. Best effort: if it fails, the IP keeps that point until its
   * counter lapses (see the class comment for why the IP, not the account).
   * In an outage it is not waited for long: it would wait for server selection
   * on top of the wait that just failed, and 503 is due within 3 s.
   */
  private async giveBack(ip: Counter, outage: boolean): Promise<void> {
    const given = this.collection()
      .updateOne({ _id: ip.key, points: { $gt: 0 } }, { $inc: { points: -1 } })
      .then(
        () => undefined,
        (error: Error) => this.logger.warn(`Could not give an IP counter its point back: ${error.message}`),
      );
    if (!outage) return given;
    let timer: NodeJS.Timeout | undefined;
    const enough = new Promise<void>((resolve) => (timer = setTimeout(resolve, OUTAGE_GIVE_BACK_WAIT_MS).unref()));
    await Promise.race([given, enough]);
    clearTimeout(timer);
  }

  /**
   * An attempt refused by a counter at its limit (`lock`): counted in the
   * metric, and recorded (login.locked) only by the refusal whose conditional
   * write (`mark`) marks the counter with this lock's end, unless a lock
   * recorded earlier is still on. However many refusals race, one write
   * matches; once that lock is over, the counter's next lock matches again. A
   * flood at one locked counter writes one event per lock period. Best effort:
   * the answer is AUTH_1006 (returned, for the caller to throw) whatever
   * happens while recording.
   */
  private async refused(counter: LockoutCounter, lock: Lock, now: number, mark: () => Promise<LockMark>): Promise<AppException> {
    this.events.loginRefused(counter);
    // Already recorded: a flood's refusals cost no write.
    if (!lock.lockRecordedUntil || lock.lockRecordedUntil.getTime() <= now) {
      try {
        const marked = await mark();
        if (marked) await this.events.loginLocked(counter, marked.account);
      } catch (error) {
        this.logger.warn(`Could not record a sign-in lock: ${(error as Error).message}`);
      }
    }
    return this.tooMany(lock, now);
  }

  /** Marks an account's or IP's lock as recorded (see `refused`); an account's lock names the account, by id if it exists. */
  private async markLock(counter: Counter, lock: Lock, now: number, email: string): Promise<LockMark> {
    const marked = await this.collection().updateOne(
      { _id: counter.key, lockRecordedUntil: { $not: { $gt: new Date(now) } } },
      { $set: { lockRecordedUntil: lock.expire } },
    );
    if (marked.modifiedCount === 0) return false;
    return { account: counter.kind === 'account' ? { email, user: await this.users.accountOf(email) } : undefined };
  }

  /** AUTH_1006 for a counter found at its limit: Retry-After says when it lapses. */
  private tooMany(locked: { expire: Date }, now: number): AppException {
    const retryAfter = Math.max(1, Math.ceil((locked.expire.getTime() - now) / MS_PER_SECOND));
    return new AppException(ErrorCode.TOO_MANY_ATTEMPTS, { retryAfterSeconds: retryAfter }, { 'Retry-After': String(retryAfter) });
  }

  /** A stranger's attempt counts on the account's counter and the IP's. */
  private counters({ email, ip }: SignInAttempt): [Counter, Counter] {
    return [
      { kind: 'account', key: `account:${accountKey(email)}`, limit: this.maxPerAccount },
      { kind: 'ip', key: `ip:${ip}`, limit: this.maxPerIp },
    ];
  }

  private collection(): Collection<CounterDocument> {
    const db = this.connection.db;
    if (!db) throw new Error('MongoDB connection is not open');
    return db.collection<CounterDocument>(LOGIN_FAILURES_COLLECTION);
  }
}

/** Emails are not stored for attempts, only a hash of the normalised address. */
function accountKey(email: string): string {
  return createHash('sha256').update(email.trim().toLowerCase()).digest('hex');
}
