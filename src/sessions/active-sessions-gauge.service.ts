import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { PeriodicJob } from '../common/lifecycle/periodic-job';
import { MetricsService } from '../metrics/metrics.service';
import { SessionStats } from '../session-events/session-stats.service';
import { SessionsRepository } from './sessions.repository';

/** How often a count is also kept as a sample of the active-sessions chart. */
const SAMPLE_EVERY_MS = 5 * 60_000;
/** Counting a huge collection on every scrape would be the scrape's cost: count every 30 s (or less often, see PeriodicJob). */
export const ACTIVE_SESSIONS_REFRESH_MS = 30_000;

export interface ActiveSessionCount {
  count: number;
  countedAt: Date;
}

/** The number of active sessions, counted in the background for the metric, the admin overview and the analytics chart. */
@Injectable()
export class ActiveSessionsGauge implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ActiveSessionsGauge.name);
  private readonly job = new PeriodicJob(
    () => this.refresh(),
    ACTIVE_SESSIONS_REFRESH_MS,
    (error) => this.logger.warn(`Could not count active sessions: ${error.message}`),
  );
  private latest?: ActiveSessionCount;
  private lastSampleAt = 0;

  constructor(
    private readonly repository: SessionsRepository,
    private readonly stats: SessionStats,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    void this.refresh();
    this.job.start();
  }

  /** The last count, or a fresh one when none has been made yet. */
  async current(): Promise<ActiveSessionCount> {
    return this.latest ?? (await this.count());
  }

  async refresh(): Promise<void> {
    try {
      const { count, countedAt } = await this.count();
      if (countedAt.getTime() - this.lastSampleAt >= SAMPLE_EVERY_MS) {
        this.lastSampleAt = countedAt.getTime();
        await this.stats.record(count, countedAt);
      }
    } catch (error) {
      this.logger.warn(`Could not count active sessions: ${(error as Error).message}`);
    }
  }

  private async count(): Promise<ActiveSessionCount> {
    this.latest = { count: await this.repository.countActive(), countedAt: new Date() };
    this.metrics.activeSessions.set(this.latest.count);
    return this.latest;
  }

  onApplicationShutdown(): void {
    this.job.stop();
  }
}
