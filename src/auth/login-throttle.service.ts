import { Injectable, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectConnection } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { createHash } from 'node:crypto';
import { RateLimiterMongo, RateLimiterRes } from 'rate-limiter-flexible';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-codes';
import type { AppConfiguration } from '../config/configuration';
import { ExpirySweeper } from '../database/expiry-sweeper.service';

export const LOGIN_FAILURES_COLLECTION = 'login_failures';
const MS_PER_SECOND = 1000;

interface Counter {
  limiter: RateLimiterMongo;
  key: string;
}

/**
 * Failed sign-ins counted per account and per client IP in MongoDB
 * (rate-limiter-flexible), so every instance sees the same counts. Once a
 * counter reaches its limit, every attempt on it, right password or not, gets
 * AUTH_1006 with Retry-After until the lock has run its length.
 */
@Injectable()
export class LoginThrottleService implements OnModuleInit {
  private readonly perAccount: RateLimiterMongo;
  private readonly perIp: RateLimiterMongo;
  private readonly lockSeconds: number;

  constructor(
    @InjectConnection() private readonly connection: Connection,
    private readonly sweeper: ExpirySweeper,
    config: ConfigService<AppConfiguration, true>,
  ) {
    const security = config.get('security', { infer: true });
    this.lockSeconds = security.loginLockMs / MS_PER_SECOND;
    const common = {
      storeClient: connection.getClient(),
      dbName: connection.db?.databaseName,
      tableName: LOGIN_FAILURES_COLLECTION,
      duration: this.lockSeconds,
      // Indexes are ours: a TTL index where supported, the sweep on FerretDB.
      disableIndexesCreation: true,
    };
    this.perAccount = new RateLimiterMongo({ ...common, keyPrefix: 'account', points: security.loginMaxFailures });
    this.perIp = new RateLimiterMongo({ ...common, keyPrefix: 'ip', points: security.loginMaxFailuresPerIp });
  }

  async onModuleInit(): Promise<void> {
    const db = this.connection.db;
    if (!db) throw new Error('MongoDB connection is not open');
    const collection = db.collection(LOGIN_FAILURES_COLLECTION);
    await collection.createIndex({ key: 1 }, { unique: true });
    await this.sweeper.expireBy(collection, 'expire');
  }

  /** Throws AUTH_1006 with Retry-After while the account or the IP is locked. */
  async assertNotLocked(email: string, ip: string): Promise<void> {
    const counters = this.counters(email, ip);
    const states = await Promise.all(counters.map(({ limiter, key }) => limiter.get(key)));
    const locked = states.filter(
      (state, index): state is RateLimiterRes => state !== null && state.consumedPoints >= counters[index].limiter.points,
    );
    if (locked.length === 0) return;
    const retryAfter = Math.max(1, Math.ceil(Math.max(...locked.map((state) => state.msBeforeNext)) / MS_PER_SECOND));
    throw new AppException(ErrorCode.TOO_MANY_ATTEMPTS, { retryAfterSeconds: retryAfter }, { 'Retry-After': String(retryAfter) });
  }

  /** Counts a failure; the one that reaches a limit starts a full-length lock. */
  async recordFailure(email: string, ip: string): Promise<void> {
    await Promise.all(
      this.counters(email, ip).map(async ({ limiter, key }) => {
        const state = await limiter.consume(key).catch((rejection: unknown) => {
          if (rejection instanceof RateLimiterRes) return rejection; // already over: a race with another attempt
          throw rejection;
        });
        if (state.consumedPoints === limiter.points) await limiter.block(key, this.lockSeconds);
      }),
    );
  }

  /** A successful sign-in clears the account's counter (not the IP's: others may share it). */
  async recordSuccess(email: string): Promise<void> {
    await this.perAccount.delete(accountKey(email));
  }

  private counters(email: string, ip: string): Counter[] {
    return [
      { limiter: this.perAccount, key: accountKey(email) },
      { limiter: this.perIp, key: ip },
    ];
  }
}

/** Emails are not stored for failed attempts, only a hash of the normalised address. */
function accountKey(email: string): string {
  return createHash('sha256').update(email.trim().toLowerCase()).digest('hex');
}
