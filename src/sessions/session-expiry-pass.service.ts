import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfiguration } from '../config/configuration';
import { PeriodicJob } from '../common/lifecycle/periodic-job';
import { SessionExpiryPolicy } from './session-expiry-policy';
import { SessionsRepository } from './sessions.repository';
import { SessionsService } from './sessions.service';

/** Sessions one pass reads at a time; a pass goes on until none is left. */
const BATCH = 500;

/**
 * Every ended session is accounted for, not only those whose owner came back:
 * every SESSION_SWEEP_SECONDS the app marks sessions past a deadline ended
 * itself, a batch at a time, and records `session.expired` with the reason and
 * the session's length. Only the write that marked a session records it, so
 * instances running the pass at once, or a request that found the same
 * session expired, record it once.
 * The TTL index (MongoDB) or the collection sweep (FerretDB) stays as the
 * backstop, a day later.
 */
@Injectable()
export class SessionExpiryPass implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(SessionExpiryPass.name);
  private readonly job: PeriodicJob;
  private running?: Promise<number>;

  constructor(
    private readonly repository: SessionsRepository,
    private readonly sessions: SessionsService,
    private readonly policy: SessionExpiryPolicy,
    config: ConfigService<AppConfiguration, true>,
  ) {
    const intervalMs = config.get('session', { infer: true }).sweepMs;
    this.job = new PeriodicJob(
      () => this.run(),
      intervalMs,
      (error) => this.logger.warn(`Expiry pass failed: ${error.message}`),
    );
  }

  onModuleInit(): void {
    this.job.start();
  }

  /** One pass (or the one already under way); how many sessions this instance ended. */
  run(): Promise<number> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<number> {
    let ended = 0;
    for (
      let batch = await this.repository.findPastDeadline(BATCH);
      batch.length > 0;
      batch = await this.repository.findPastDeadline(BATCH)
    ) {
      const now = new Date();
      const due = batch.flatMap((document) => {
        const { createdAt, lastActivityAt, userId } = document.session;
        const verdict = this.policy.evaluate({ createdAt: new Date(createdAt), lastActivityAt: new Date(lastActivityAt) }, now);
        if (!verdict.expired) return [];
        const endedAt = verdict.reason === 'absolute' ? verdict.absoluteExpiresAt : verdict.idleExpiresAt;
        return [{ session: { id: document._id, userId, createdAt: new Date(createdAt), endedAt }, reason: verdict.reason }];
      });
      const removed = await this.sessions.endPastDeadline(due);
      ended += removed;
      // Another instance took this batch; what is left is its to finish.
      if (removed === 0) break;
    }
    return ended;
  }

  onApplicationShutdown(): void {
    this.job.stop();
  }
}
