/**
 * The most of its time a background job may keep the database busy. A run
 * that took `d` waits at least `d × (1 / share − 1)` before the next, so a job
 * never takes more than this share however slow its queries get.
 */
export const BACKGROUND_SHARE = 0.05;

/**
 * A background job run every `intervalMs`, one run at a time, backing off when
 * runs are slow. On MongoDB our jobs are index lookups and keep their
 * interval; on a database that scans (FerretDB counts by reading every
 * document) they run less often instead of taking a core away from requests.
 */
export class PeriodicJob {
  private timer?: NodeJS.Timeout;
  private stopped = true;

  constructor(
    private readonly job: () => Promise<unknown>,
    private readonly intervalMs: number,
    /** A failed run is reported here; the next one still comes. */
    private readonly onError: (error: Error) => void,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The wait after a run that took `durationMs`. */
  static delayAfter(durationMs: number, intervalMs: number): number {
    return Math.max(intervalMs, durationMs * (1 / BACKGROUND_SHARE - 1));
  }

  start(): void {
    this.stopped = false;
    this.schedule(this.intervalMs);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.runOnce(), delayMs);
    this.timer.unref();
  }

  private async runOnce(): Promise<void> {
    const started = this.clock();
    try {
      await this.job();
    } catch (error) {
      this.onError(error as Error);
    } finally {
      this.schedule(PeriodicJob.delayAfter(this.clock() - started, this.intervalMs));
    }
  }
}
