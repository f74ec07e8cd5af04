import type { ExpiryReason } from '../session-events/ending';

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

  /**
   * Over at the deadline itself; when both have passed, the one that came first
   * is the reason. `storedExpiry` is the session's TTL field as stored: the
   * database counts the session live only before the first deadline it was
   * written with (storageExpiry), which is earlier than ours if the windows
   * were made longer since. Whichever of the two comes first ends it, so no
   * session is served that conditional writes (sign-out, revocation) would
   * treat as over.
   */
  evaluate(session: SessionTimestamps, now: Date, storedExpiry?: Date): SessionVerdict {
    const computed = this.deadlines(session);
    const absolute = computed.absoluteExpiresAt.getTime();
    const idle = session.lastActivityAt.getTime() + this.inactivityMs;
    const stored = storedExpiry ? storedExpiry.getTime() - EXPIRED_SESSION_RETENTION_MS : Infinity;
    const deadlines = { ...computed, idleExpiresAt: new Date(Math.min(computed.idleExpiresAt.getTime(), stored)) };
    if (now.getTime() < Math.min(idle, absolute, stored)) return { expired: false, ...deadlines };
    return { expired: true, reason: absolute <= Math.min(idle, stored) ? 'absolute' : 'inactivity', ...deadlines };
  }

  /** When a session that ended for `reason` ended: the deadline that passed. */
  static endedAt(deadlines: SessionDeadlines, reason: ExpiryReason): Date {
    return reason === 'absolute' ? deadlines.absoluteExpiresAt : deadlines.idleExpiresAt;
  }

  /** Whether the first deadline a session was stored with (its TTL field, see storageExpiry) is still ahead. */
  static liveInStore(storedExpiry: Date, now: Date): boolean {
    return storedExpiry.getTime() - EXPIRED_SESSION_RETENTION_MS > now.getTime();
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
