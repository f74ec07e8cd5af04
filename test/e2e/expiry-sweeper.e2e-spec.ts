import { Logger } from '@nestjs/common';
import { type Collection, type Document, type Filter, MongoClient } from 'mongodb';
import { MetricsService } from '../../src/metrics/metrics.service';
import { ExpirySweeper, SWEEP_BATCH_SIZE } from '../../src/database/expiry-sweeper.service';
import { databaseUri, uniqueDatabaseName } from '../helpers/test-app';

interface Dated {
  _id: string;
  expires: Date;
}

/**
 * The sweep that replaces TTL indexes on FerretDB deletes in small batches by
 * `_id`: one `deleteMany` over the whole collection holds FerretDB's write lock
 * for seconds and stalls every other write.
 */
describe('ExpirySweeper', () => {
  let client: MongoClient;
  let collection: Collection<Dated>;
  const sweeper = new ExpirySweeper(new MetricsService());
  const EXPIRED = SWEEP_BATCH_SIZE * 2 + 250;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    client = await new MongoClient(databaseUri(uniqueDatabaseName('expiry_sweeper')), { serverSelectionTimeoutMS: 5_000 }).connect();
  });
  beforeEach(async () => {
    collection = client.db().collection<Dated>(`dated_${Date.now()}`);
    const past = new Date(Date.now() - 60_000);
    const future = new Date(Date.now() + 3_600_000);
    await collection.insertMany([
      ...Array.from({ length: EXPIRED }, (_, i) => ({ _id: `expired-${i}`, expires: past })),
      ...Array.from({ length: 100 }, (_, i) => ({ _id: `live-${i}`, expires: future })),
    ]);
  });
  afterAll(async () => {
    sweeper.onApplicationShutdown();
    await client?.db().dropDatabase();
    await client?.close();
  });

  /** `collection` with every deleteMany filter recorded, and `beforeDelete` run before each delete reaches the server. */
  function watched(beforeDelete: (filter: Filter<Dated>) => Promise<void> = async () => {}) {
    const deletes: Filter<Dated>[] = [];
    const proxy = new Proxy(collection, {
      get(target, property, receiver) {
        if (property !== 'deleteMany') return Reflect.get(target, property, receiver) as unknown;
        return async (filter: Filter<Dated>) => {
          deletes.push(filter);
          await beforeDelete(filter);
          return target.deleteMany(filter);
        };
      },
    });
    return { collection: proxy as unknown as Collection<Document>, deletes };
  }

  it('removes every expired document, more than one batch of them, deleting batches of _ids', async () => {
    const { collection: sweptCollection, deletes } = watched();
    expect(await sweeper.sweepCollection(sweptCollection, 'expires')).toBe(EXPIRED);

    expect(await collection.countDocuments({ _id: /^expired-/ })).toBe(0);
    expect(await collection.countDocuments({ _id: /^live-/ })).toBe(100);
    expect(deletes).toHaveLength(3);
    for (const filter of deletes) {
      const ids = (filter._id as { $in: string[] }).$in;
      expect(ids.length).toBeLessThanOrEqual(SWEEP_BATCH_SIZE);
      expect(ids.every((id) => id.startsWith('expired-'))).toBe(true);
      expect(filter.expires).toEqual({ $lt: expect.any(Date) });
    }
  });

  it('keeps a document whose date moved into the future between the read and the delete', async () => {
    let moved: string | undefined;
    const { collection: sweptCollection } = watched(async (filter) => {
      if (moved) return;
      moved = (filter._id as { $in: string[] }).$in[7];
      await collection.updateOne({ _id: moved }, { $set: { expires: new Date(Date.now() + 3_600_000) } });
    });
    expect(await sweeper.sweepCollection(sweptCollection, 'expires')).toBe(EXPIRED - 1);

    expect(moved).toBeDefined();
    expect(await collection.findOne({ _id: moved })).not.toBeNull();
    expect(await collection.countDocuments({ _id: /^expired-/ })).toBe(1);
    expect(await collection.countDocuments({ _id: /^live-/ })).toBe(100);
  });

  it('sweeps the collections it was given where the server has no TTL index, and says how many went', async () => {
    const swept = new ExpirySweeper(new MetricsService());
    const native = await swept.expireBy(collection as unknown as Collection<Document>, 'expires');
    try {
      // MongoDB expires them itself (TTL index); FerretDB leaves it to sweep().
      expect(await swept.sweep()).toBe(native ? 0 : EXPIRED);
      if (!native) expect(await collection.countDocuments()).toBe(100);
    } finally {
      swept.onApplicationShutdown();
    }
  });
});
