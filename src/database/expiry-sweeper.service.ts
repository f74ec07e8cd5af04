import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type { Collection, Document, Filter } from 'mongodb';
import { PeriodicJob } from '../common/lifecycle/periodic-job';
import { MetricsService } from '../metrics/metrics.service';
import { createTtlIndex } from './ttl-support';

/** How often expired documents are deleted where the server has no TTL indexes. */
export const SWEEP_INTERVAL_MS = 60_000;
/**
 * Documents read, then deleted, at a time. On FerretDB a delete holds the
 * process-wide write lock (ferretdb-patches.ts) for as long as it runs: one
 * `deleteMany` of a large backlog holds it for seconds and stalls every other
 * write; a batch by `_id` holds it briefly, and writes queued behind it go
 * between batches.
 */
export const SWEEP_BATCH_SIZE = 500;

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

  constructor(private readonly metrics: MetricsService) {}

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
    const started = performance.now();
    let deleted = 0;
    for (const { collection, field } of this.swept) {
      try {
        deleted += await this.sweepCollection(collection, field);
      } catch (error) {
        this.logger.warn(`Sweeping ${collection.collectionName} failed: ${(error as Error).message}`);
      }
    }
    this.metrics.backgroundPass('expired_documents_sweep', performance.now() - started, deleted);
    return deleted;
  }

  /**
   * Deletes the documents of `collection` whose `field` is before `now`, in
   * batches: the `_id`s of expired documents are read (a read takes no write
   * lock) SWEEP_BATCH_SIZE at a time, and each batch is deleted by `_id`
   * (FerretDB as built here answers that through the `_id` index) before the
   * next is read. One cursor reads them all: FerretDB cannot use the index on
   * `field`, and a fresh `limit`ed query per batch would scan the collection
   * again for each. The delete repeats the condition: a document whose date
   * moved into the future since it was read (a session just used) stays.
   */
  async sweepCollection(collection: Collection<Document>, field: string, now = new Date()): Promise<number> {
    const expired = { [field]: { $lt: now } };
    const deleteBatch = async (ids: unknown[]) =>
      (await collection.deleteMany({ _id: { $in: ids }, ...expired } as Filter<Document>)).deletedCount;
    let deleted = 0;
    let ids: unknown[] = [];
    for await (const { _id } of collection.find(expired, { projection: { _id: 1 }, batchSize: SWEEP_BATCH_SIZE })) {
      ids.push(_id);
      if (ids.length < SWEEP_BATCH_SIZE) continue;
      deleted += await deleteBatch(ids);
      ids = [];
    }
    if (ids.length > 0) deleted += await deleteBatch(ids);
    return deleted;
  }

  onApplicationShutdown(): void {
    this.job?.stop();
  }
}
