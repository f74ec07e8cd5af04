import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { MetricsService } from '../metrics/metrics.service';
import { SessionsRepository } from './sessions.repository';

/** Counting a huge collection on every scrape would be the scrape's cost: count every 30 s instead. */
export const ACTIVE_SESSIONS_REFRESH_MS = 30_000;

@Injectable()
export class ActiveSessionsGauge implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ActiveSessionsGauge.name);
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly repository: SessionsRepository,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), ACTIVE_SESSIONS_REFRESH_MS);
    this.timer.unref();
  }

  async refresh(): Promise<void> {
    try {
      this.metrics.activeSessions.set(await this.repository.countActive());
    } catch (error) {
      this.logger.warn(`Could not count active sessions: ${(error as Error).message}`);
    }
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }
}
