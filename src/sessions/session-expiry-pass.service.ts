import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfiguration } from '../config/configuration';
import { PeriodicJob } from '../common/lifecycle/periodic-job';
import { MetricsService } from '../metrics/metrics.service';
import type { SessionDocument } from './session-document';
import { SessionExpiryPolicy } from './session-expiry-policy';
import { SessionsRepository } from './sessions.repository';
import { SessionsService } from './sessions.service';

/** Sessions one pass ends together (one marking write and one event insert per reason). */
const BATCH = 500;

/**
 * Every ended session is accounted for, not only those whose owner came back:
 * every SESSION_SWEEP_SECONDS the app marks sessions past a deadline ended
 * itself, a batch at a time, and records `session.expired` with the reason and
 * the session's length. Only the write that marked a session records it, so
 * instances running the pass at once, or a request that found the same
 * session expired, record it once.
 * The TTL index (MongoDB) or the collection sweep (FerretDB) stays as the
 * backstop, a day later. Each pass first finishes credential changes that
 * failed half-way (SessionsService.finishUnfinishedChanges) and records
 * the ends an earlier pass marked but failed to record.
 */
@Injectable()
export class SessionExpiryPass implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(SessionExpiryPass.name);
  private readonly job: PeriodicJob;
  private running?: Promise<number>;
  private readonly intervalMs: number;

  constructor(
    private readonly repository: SessionsRepository,
    private readonly sessions: SessionsService,
    private readonly policy: SessionExpiryPolicy,
    private readonly metrics: MetricsService,
    config: ConfigService<AppConfiguration, true>,
  ) {
    this.intervalMs = config.get('session', { infer: true }).sweepMs;
    this.job = new PeriodicJob(
      () => this.run(),
      this.intervalMs,
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

  /**
   * Reads every unmarked session past its deadline (and every mark an earlier
   * pass failed to record) through one cursor and ends them a batch at a time.
   * One read, not one per batch: FerretDB scans (and would sort) the whole
   * collection for each query of this shape.
   */
  private async pass(): Promise<number> {
    const started = performance.now();
    await this.sessions.finishUnfinishedChanges();
    // A mark older than one interval belongs to a pass that failed before recording it.
    const markedBefore = new Date(Date.now() - this.intervalMs);
    let ended = 0;
    let found = 0;
    let batch: SessionDocument[] = [];
    for await (const document of this.repository.pastDeadline(BATCH, markedBefore)) {
      found++;
      batch.push(document);
      if (batch.length < BATCH) continue;
      ended += await this.endBatch(batch, markedBefore);
      batch = [];
    }
    ended += await this.endBatch(batch, markedBefore);
    this.metrics.backgroundPass('session_expiry', performance.now() - started, found);
    return ended;
  }

  private async endBatch(batch: SessionDocument[], markedBefore: Date): Promise<number> {
    const marked = batch.filter((document) => document.session.endedReason !== undefined).map((document) => document._id);
    const now = new Date();
    const due = batch.flatMap((document) => {
      const { createdAt, lastActivityAt, userId, endedReason } = document.session;
      if (endedReason !== undefined) return [];
      const timestamps = { createdAt: new Date(createdAt), lastActivityAt: new Date(lastActivityAt) };
      const verdict = this.policy.evaluate(timestamps, now, new Date(document.expires));
      if (!verdict.expired) return [];
      const endedAt = SessionExpiryPolicy.endedAt(verdict, verdict.reason);
      return [{ session: { id: document._id, userId, createdAt: new Date(createdAt), endedAt }, reason: verdict.reason }];
    });
    return (await this.sessions.recordEndingsLeftBehind(marked, markedBefore)) + (await this.sessions.endPastDeadline(due));
  }

  onApplicationShutdown(): void {
    this.job.stop();
  }
}
