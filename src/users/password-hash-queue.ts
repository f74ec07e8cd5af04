import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-codes';

const MS_PER_SECOND = 1000;
/** Weight of the newest hash time in the running estimate behind Retry-After. */
const HASH_TIME_WEIGHT = 0.2;

/** What the queue tells the metrics: places taken but not hashing yet, hash times, refusals. */
export interface HashQueueObserver {
  waiting(count: number): void;
  hashed(ms: number): void;
  shed(): void;
}

/** A place in the queue: hashes run through it, one at a time, when a hash slot is free. */
export interface HashPlace {
  run<T>(hash: () => Promise<T>): Promise<T>;
}

/**
 * Password hashing at bounded concurrency, behind a bounded queue. argon2 runs
 * on libuv's thread pool; beyond the cores, every extra hash in flight only
 * makes all of them slower and takes the CPU that the event loop and the
 * database need. A caller first takes a place (`withPlace`), before any
 * other work: with `concurrency + queueMax` places taken it is refused at once
 * with 503 SYS_9003 and Retry-After, so a storm is shed, not queued without
 * bound, and a refused sign-in costs no database command. Slots are handed
 * over in arrival order.
 */
export class PasswordHashQueue {
  private placesTaken = 0;
  private hashing = 0;
  private readonly queue: (() => void)[] = [];
  /** Running estimate of one hash's time, for Retry-After. */
  private hashMs = 0;

  constructor(
    readonly concurrency: number,
    readonly queueMax: number,
    private readonly observer: HashQueueObserver,
  ) {}

  /** Runs `work` holding a place; SYS_9003 at once when every place is taken. */
  async withPlace<T>(work: (place: HashPlace) => Promise<T>): Promise<T> {
    if (this.placesTaken >= this.concurrency + this.queueMax) {
      this.observer.shed();
      const retryAfter = String(this.retryAfterSeconds());
      throw new AppException(ErrorCode.BUSY, { retryAfterSeconds: Number(retryAfter) }, { 'Retry-After': retryAfter });
    }
    this.placesTaken++;
    this.report();
    try {
      return await work({ run: (hash) => this.run(hash) });
    } finally {
      this.placesTaken--;
      this.report();
    }
  }

  private async run<T>(hash: () => Promise<T>): Promise<T> {
    if (this.hashing < this.concurrency) this.hashing++;
    else await new Promise<void>((granted) => this.queue.push(granted));
    this.report();
    const started = performance.now();
    try {
      return await hash();
    } finally {
      const ms = performance.now() - started;
      this.hashMs = this.hashMs === 0 ? ms : this.hashMs + HASH_TIME_WEIGHT * (ms - this.hashMs);
      this.observer.hashed(ms);
      // The slot passes straight to the next in line, so `hashing` stays as it is.
      const next = this.queue.shift();
      if (next) next();
      else this.hashing--;
      this.report();
    }
  }

  /** When a place is likely free again: the time for the places ahead to be hashed, at least a second. */
  private retryAfterSeconds(): number {
    return Math.max(1, Math.ceil((this.placesTaken / this.concurrency) * (this.hashMs / MS_PER_SECOND)));
  }

  private report(): void {
    this.observer.waiting(this.placesTaken - this.hashing);
  }
}
