import { Injectable } from '@nestjs/common';
import { SessionStatsRepository } from './session-stats.repository';
import type { Bucket } from './time-buckets';

/** The active-session count over time: samples in, averages per hour or day out. */
@Injectable()
export class SessionStats {
  constructor(private readonly repository: SessionStatsRepository) {}

  record(active: number, at: Date): Promise<void> {
    return this.repository.record(active, at);
  }

  activeSeries(since: Date, bucket: Bucket): Promise<{ at: Date; active: number }[]> {
    return this.repository.activeSeries(since, bucket);
  }
}
