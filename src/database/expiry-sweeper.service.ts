import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type { Collection, Document } from 'mongodb';
import { PeriodicJob } from '../common/lifecycle/periodic-job';
import { createTtlIndex } from './ttl-support';

/** How often expired documents are deleted where the server has no TTL indexes. */
export const SWEEP_INTERVAL_MS = 60_000;

interface SweptCollection {
  collection: Collection<Document>;
  field: string;
}

/**
 * Expiry for collections with a date field: a TTL index where the server has
 * them (MongoDB), a periodic delete where it does not (FerretDB answers
 * NotImplemented). Not connect-mongo's `autoRemove: 'interval'`: it deletes
 * with `w: 0`, and FerretDB answers unacknowledged writes anyway, which
 * desynchronises the driver's connection. Behaviour is the same either way:
 * deadlines are enforced in code, this only frees space.
 */
@Injectable()
export class ExpirySweeper implements OnApplicationShutdown {
  private readonly logger = new Logger(ExpirySweeper.name);
  private readonly swept: SweptCollection[] = [];
  private job?: PeriodicJob;

  /** Ensures documents leave `collection` once `field` is in the past; true when MongoDB does it natively. */
  async expireBy(collection: Collection<Document>, field: string): Promise<boolean> {
    if (await createTtlIndex(collection, field)) return true;
    await collection.createIndex({ [field]: 1 });
    this.swept.push({ collection, field });
    if (!this.job) {
      this.logger.log('No TTL index support: expired documents are swept every minute');
      this.job = new PeriodicJob(
        () => this.sweep(),
        SWEEP_INTERVAL_MS,
        (error) => this.logger.warn(`Sweep failed: ${error.message}`),
      );
      this.job.start();
    }
    return false;
  }

  /** Deletes what has expired in every swept collection; returns how many documents went. */
  async sweep(): Promise<number> {
    let deleted = 0;
    for (const { collection, field } of this.swept) {
      try {
        deleted += (await collection.deleteMany({ [field]: { $lt: new Date() } })).deletedCount;
      } catch (error) {
        this.logger.warn(`Sweeping ${collection.collectionName} failed: ${(error as Error).message}`);
      }
    }
    return deleted;
  }

  onApplicationShutdown(): void {
    this.job?.stop();
  }
}
