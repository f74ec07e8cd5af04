import { Injectable, Logger } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-codes';
import { DUPLICATE_KEY } from '../database/database.constants';

const LOCKS_COLLECTION = 'locks';
const ACCOUNT_ROLES = 'account-roles';
/** A holder that crashed keeps role changes waiting this long at most; a change takes milliseconds. */
export const ACCOUNT_ROLES_LEASE_MS = 30_000;
/** How long a role change waits for the one before it, then answers SYS_9002 (try again). */
export const ACCOUNT_ROLES_WAIT_MS = 5_000;
const POLL_MS = 20;
const RELEASE_RETRY_MS = 1_000;
/** Acknowledged by a majority: a failover must not lose a lease and let a second holder in. */
const BY_MAJORITY = { writeConcern: { w: 'majority' } } as const;

interface LockDocument {
  _id: string;
  holder: string;
  until: Date;
}

/**
 * One role or disabled change (or creation of an admin) at a time, across
 * every instance: a lease in MongoDB (`locks`, one document). Each change
 * reads the accounts as the one before it left them, so "the last active
 * admin" is decided on what is written, not on a read another change is
 * about to make stale. Without transactions (FerretDB) a check-then-write
 * of two accounts cannot be made atomic any other way; re-checking after the
 * write and undoing was tried, and every undo raced with a third change.
 */
@Injectable()
export class AccountRolesLock {
  private readonly logger = new Logger(AccountRolesLock.name);

  constructor(@InjectConnection() private readonly connection: Connection) {}

  /**
   * Runs `work` holding the lock; SYS_9002 when it stays held by others for
   * ACCOUNT_ROLES_WAIT_MS. `work` calls `confirm` right before each write:
   * it extends the lease while still ours, and is SYS_9002 when the lease ran
   * out and another change may have come in (a step slower than the lease).
   */
  async whileHeld<T>(work: (confirm: () => Promise<void>) => Promise<T>): Promise<T> {
    const holder = randomUUID();
    const giveUpAt = Date.now() + ACCOUNT_ROLES_WAIT_MS;
    while (!(await this.tryAcquire(holder))) {
      if (Date.now() >= giveUpAt) throw new AppException(ErrorCode.DEPENDENCY_UNAVAILABLE);
      await sleep(POLL_MS);
    }
    try {
      return await work(() => this.confirm(holder));
    } finally {
      await this.release(holder, Date.now() + ACCOUNT_ROLES_LEASE_MS);
    }
  }

  private async confirm(holder: string): Promise<void> {
    const result = await this.locks().updateOne(
      { _id: ACCOUNT_ROLES, holder },
      { $set: { until: new Date(Date.now() + ACCOUNT_ROLES_LEASE_MS) } },
      BY_MAJORITY,
    );
    if (result.matchedCount !== 1) throw new AppException(ErrorCode.DEPENDENCY_UNAVAILABLE);
  }

  /**
   * A failed release (the database dropped, as it often has when the change
   * failed) is tried again each second in the background until the lease
   * would have run out anyway, so the next change waits for the database, not
   * for the lease.
   */
  private async release(holder: string, leaseEndsBy: number): Promise<void> {
    try {
      await this.locks().deleteOne({ _id: ACCOUNT_ROLES, holder });
    } catch (error) {
      if (Date.now() + RELEASE_RETRY_MS >= leaseEndsBy) {
        this.logger.warn(`Could not release the account roles lock; its lease runs out: ${(error as Error).message}`);
        return;
      }
      setTimeout(() => void this.release(holder, leaseEndsBy), RELEASE_RETRY_MS).unref();
    }
  }

  /** Takes the lock when it is free or its lease ran out: one conditional upsert; a duplicate key means held. */
  private async tryAcquire(holder: string): Promise<boolean> {
    const now = new Date();
    try {
      await this.locks().updateOne(
        { _id: ACCOUNT_ROLES, until: { $lte: now } },
        { $set: { holder, until: new Date(now.getTime() + ACCOUNT_ROLES_LEASE_MS) } },
        { upsert: true, ...BY_MAJORITY },
      );
      return true;
    } catch (error) {
      if ((error as { code?: number }).code === DUPLICATE_KEY) return false;
      throw error;
    }
  }

  private locks() {
    return this.connection.collection<LockDocument>(LOCKS_COLLECTION);
  }
}
