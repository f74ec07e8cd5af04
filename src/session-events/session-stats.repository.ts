import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Collection } from 'mongodb';
import type { Connection } from 'mongoose';
import { ExpirySweeper } from '../database/expiry-sweeper.service';
import { Bucket, bucketsOf } from './time-buckets';

export const SESSION_STATS_COLLECTION = 'session_stats';
/** Samples are kept a little longer than the longest chart (30 days). */
const SAMPLE_RETENTION_MS = 31 * 24 * 60 * 60_000;

interface ActiveSessionsSample {
  at: Date;
  hour: Date;
  day: Date;
  active: number;
  expiresAt: Date;
}

/** The one owner of `session_stats`: the active-session count over time, sampled in the background. */
@Injectable()
export class SessionStatsRepository implements OnModuleInit {
  constructor(
    @InjectConnection() private readonly connection: Connection,
    private readonly sweeper: ExpirySweeper,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.sweeper.expireBy(this.collection() as unknown as Collection, 'expiresAt');
    await this.collection().createIndex({ at: -1 });
  }

  async record(active: number, at = new Date()): Promise<void> {
    await this.collection().insertOne({ at, ...bucketsOf(at), active, expiresAt: new Date(at.getTime() + SAMPLE_RETENTION_MS) });
  }

  /**
   * The average of the samples in each hour or day since `since`: a sum and a
   * count, each its own $group (FerretDB 1.24 has no $avg or $max, and computes
   * only the first accumulator of a $group).
   */
  async activeSeries(since: Date, bucket: Bucket): Promise<{ at: Date; active: number }[]> {
    const perBucket = (accumulator: number | string) =>
      this.collection()
        .aggregate<{ _id: Date; value: number }>([
          { $match: { at: { $gte: since } } },
          { $group: { _id: `$${bucket}`, value: { $sum: accumulator } } },
          { $sort: { _id: 1 } },
        ])
        .toArray();
    const [totals, samples] = await Promise.all([perBucket('$active'), perBucket(1)]);
    const counts = new Map(samples.map((row) => [new Date(row._id).getTime(), row.value]));
    return totals.map((row) => ({ at: new Date(row._id), active: Math.round(row.value / (counts.get(new Date(row._id).getTime()) || 1)) }));
  }

  private collection(): Collection<ActiveSessionsSample> {
    const db = this.connection.db;
    if (!db) throw new Error('MongoDB connection is not open');
    return db.collection<ActiveSessionsSample>(SESSION_STATS_COLLECTION);
  }
}
