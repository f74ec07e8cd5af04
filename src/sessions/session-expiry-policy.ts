export const EXPIRY_REASONS = ['inactivity', 'absolute'] as const;
export type ExpiryReason = (typeof EXPIRY_REASONS)[number];

export interface SessionTimestamps {
  createdAt: Date;
  lastActivityAt: Date;
}

export interface SessionDeadlines {
  idleExpiresAt: Date;
  absoluteExpiresAt: Date;
}

export type SessionVerdict = ({ expired: false } & SessionDeadlines) | ({ expired: true; reason: ExpiryReason } & SessionDeadlines);

/** Longest gap between two activity writes, whatever the inactivity window. */
export const MAX_ACTIVITY_WRITE_INTERVAL_MS = 60_000;
/** Activity writes happen at most once per this fraction of the inactivity window. */
const ACTIVITY_WRITE_FRACTION = 10;
/**
 * How long an ended session's document stays after its deadline, so a late
 * request still learns *why* it ended (inactivity or absolute) instead of
 * being told the session never existed.
 */
export const EXPIRED_SESSION_RETENTION_MS = 24 * 60 * 60_000;

/**
 * The rules of a session's life, as pure functions of its timestamps:
 * a rolling inactivity deadline and an absolute one from sign-in.
 */
export class SessionExpiryPolicy {
  readonly activityWriteIntervalMs: number;

  constructor(
    readonly inactivityMs: number,
    readonly absoluteMs: number,
  ) {
    this.activityWriteIntervalMs = Math.min(MAX_ACTIVITY_WRITE_INTERVAL_MS, inactivityMs / ACTIVITY_WRITE_FRACTION);
  }

  /** The idle deadline is never reported past the absolute one: activity cannot outlive the session. */
  deadlines(session: SessionTimestamps): SessionDeadlines {
    const absolute = session.createdAt.getTime() + this.absoluteMs;
    const idle = session.lastActivityAt.getTime() + this.inactivityMs;
    return { idleExpiresAt: new Date(Math.min(idle, absolute)), absoluteExpiresAt: new Date(absolute) };
  }

  /** Over at the deadline itself; when both have passed, the one that came first is the reason. */
  evaluate(session: SessionTimestamps, now: Date): SessionVerdict {
    const deadlines = this.deadlines(session);
    const absolute = deadlines.absoluteExpiresAt.getTime();
    const idle = session.lastActivityAt.getTime() + this.inactivityMs;
    if (now.getTime() < Math.min(idle, absolute)) return { expired: false, ...deadlines };
    return { expired: true, reason: absolute <= idle ? 'absolute' : 'inactivity', ...deadlines };
  }

  /** Activity is written at most once per write interval. */
  shouldRecordActivity(session: SessionTimestamps, now: Date): boolean {
    return now.getTime() - session.lastActivityAt.getTime() >= this.activityWriteIntervalMs;
  }

  /** The store's TTL field: past both deadlines we enforce, so the reason is still known. */
  storageExpiry(session: SessionTimestamps): Date {
    return new Date(this.deadlines(session).idleExpiresAt.getTime() + EXPIRED_SESSION_RETENTION_MS);
  }
}
