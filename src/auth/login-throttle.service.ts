import { Injectable, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectConnection } from '@nestjs/mongoose';
import { AnyBulkWriteOperation, Collection, MongoBulkWriteError } from 'mongodb';
import type { Connection } from 'mongoose';
import { createHash } from 'node:crypto';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-codes';
import type { AppConfiguration } from '../config/configuration';
import { ExpirySweeper } from '../database/expiry-sweeper.service';

export const LOGIN_FAILURES_COLLECTION = 'login_failures';
const MS_PER_SECOND = 1000;
const DUPLICATE_KEY = 11000;
/** A consume that met a concurrent first attempt, or a lapsed counter, is tried again this often. */
const CONSUME_ATTEMPTS = 3;

interface CounterDocument {
  _id: string;
  points: number;
  expire: Date;
}

interface Counter {
  key: string;
  limit: number;
}

/** Who is signing in, as the counters know them. */
export interface SignInAttempt {
  email: string;
  ip: string;
  /** The device id of a valid device cookie for this account (DeviceCookieService), if the browser showed one. */
  device?: string;
}

/** Failed sign-ins a trusted device may make before its device cookie is refused too. */
export const DEVICE_MAX_FAILURES = 3;

/**
 * Sign-in attempts counted per account and per client IP in MongoDB, so every
 * instance sees the same counts. An attempt is counted *before* its password is
 * checked, both counters in one command, each statement an atomic conditional
 * upsert (`points < limit`): however many attempts arrive at once, at most
 * `limit` of them get their password checked, the rest get AUTH_1006 with
 * Retry-After. A success gives its points back (the account's counter starts
 * over; the IP's loses this attempt), so only failures add up. The count lapses
 * LOGIN_LOCK_MINUTES after the last counted attempt; a lock lasts that long
 * from the attempt that reached the limit.
 *
 * Not rate-limiter-flexible: it spends one findAndModify per key and has no
 * multi-key consume, which doubles the database work of every sign-in.
 */
@Injectable()
export class LoginThrottleService implements OnModuleInit {
  private readonly maxPerAccount: number;
  private readonly maxPerIp: number;
  private readonly lockMs: number;

  constructor(
    @InjectConnection() private readonly connection: Connection,
    private readonly sweeper: ExpirySweeper,
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
   * Counts the attempt against both limits, or throws AUTH_1006 when either is
   * reached. Database errors propagate as they are: an outage is not a lock.
   */
  async consume(attempt: SignInAttempt): Promise<void> {
    let counters: Counter[] = this.counters(attempt);
    for (let round = 1; round <= CONSUME_ATTEMPTS; round++) {
      const refused = await this.tryConsume(counters);
      if (refused.length === 0) return;
      const now = Date.now();
      const documents = await this.collection()
        .find({ _id: { $in: refused.map((counter) => counter.key) } })
        .toArray();
      const locked = documents.filter((document) => document.expire.getTime() > now && document.points >= this.limitOf(refused, document));
      if (locked.length > 0 || round === CONSUME_ATTEMPTS) throw this.tooMany(locked, now);
      // Not locked: a concurrent first attempt created the counter, or it lapsed before the sweep.
      const lapsed = documents.filter((document) => document.expire.getTime() <= now).map((document) => document._id);
      if (lapsed.length > 0) await this.collection().deleteMany({ _id: { $in: lapsed }, expire: { $lte: new Date(now) } });
      counters = refused;
    }
  }

  /** The password was right: the account's (or device's) counter starts over and the IP's gets this attempt back. */
  async succeeded(attempt: SignInAttempt): Promise<void> {
    const [first, ip] = this.counters(attempt);
    await this.collection().bulkWrite(
      [
        { updateOne: { filter: { _id: first.key }, update: { $set: { points: 0 } } } },
        { updateOne: { filter: { _id: ip.key, points: { $gt: 0 } }, update: { $inc: { points: -1 } } } },
      ],
      { ordered: false },
    );
  }

  /** The counters whose statement could not count the attempt (limit reached, lapsed, or a race). */
  private async tryConsume(counters: Counter[]): Promise<Counter[]> {
    const now = new Date();
    const operations: AnyBulkWriteOperation<CounterDocument>[] = counters.map(({ key, limit }) => ({
      updateOne: {
        filter: { _id: key, points: { $lt: limit }, expire: { $gt: now } },
        update: { $inc: { points: 1 }, $set: { expire: new Date(now.getTime() + this.lockMs) } },
        upsert: true,
      },
    }));
    try {
      await this.collection().bulkWrite(operations, { ordered: false });
      return [];
    } catch (error) {
      if (!(error instanceof MongoBulkWriteError)) throw error;
      const errors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
      if (errors.some((writeError) => writeError.code !== DUPLICATE_KEY)) throw error;
      const failed = new Set(errors.map((writeError) => writeError.index));
      // MongoDB runs every statement of an unordered write; FerretDB stops at the first error. Statements
      // that may not have run are looked at again, like the refused ones (their counter decides).
      const applied = error.result.matchedCount + error.result.upsertedCount;
      const firstFailed = Math.min(...failed);
      const allRan = applied === counters.length - failed.size;
      return counters.filter((_counter, index) => failed.has(index) || (!allRan && index > firstFailed));
    }
  }

  private tooMany(locked: CounterDocument[], now: number): AppException {
    const longest = Math.max(0, ...locked.map((document) => document.expire.getTime() - now));
    const retryAfter = Math.max(1, Math.ceil(longest / MS_PER_SECOND));
    return new AppException(ErrorCode.TOO_MANY_ATTEMPTS, { retryAfterSeconds: retryAfter }, { 'Retry-After': String(retryAfter) });
  }

  private limitOf(counters: Counter[], document: CounterDocument): number {
    return counters.find((counter) => counter.key === document._id)?.limit ?? 0;
  }

  /**
   * A browser with this account's device cookie is counted on its own device
   * counter instead of the account's: failures from untrusted clients lock
   * them out, not the owner's known browsers (and the other way round).
   */
  private counters({ email, ip, device }: SignInAttempt): [Counter, Counter] {
    const first = device
      ? { key: `device:${accountKey(email)}:${device}`, limit: DEVICE_MAX_FAILURES }
      : { key: `account:${accountKey(email)}`, limit: this.maxPerAccount };
    return [first, { key: `ip:${ip}`, limit: this.maxPerIp }];
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
