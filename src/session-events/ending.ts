import type { RevokedBy } from '../metrics/metrics.service';
import type { DeviceSignals } from '../devices/device-binding';

/**
 * The endings the audit log records, defined here, below the sessions module
 * that produces them, so the log imports nothing of sessions.
 */
export const EXPIRY_REASONS = ['inactivity', 'absolute'] as const;
export type ExpiryReason = (typeof EXPIRY_REASONS)[number];

/** Why a session continues under a new id (`session.rotated`). */
export type RotationReason = 'reauthenticated' | 'password_changed' | 'factors_changed' | 'second_step';

/**
 * How one session ended, other than by the expiry pass's batches: the event
 * that records it. It is written into the session with the mark that ends it
 * (SessionsRepository.markEnding), so if the process dies before the event is
 * written, the expiry pass records this same event from the mark.
 */
export type Ending =
  | { event: 'logout' }
  | { event: 'session.rotated'; reason: RotationReason }
  | { event: 'session.revoked'; by: RevokedBy; actorId?: string; reason: string }
  | { event: 'session.anomaly'; signedInWith: { userAgent: string; device: DeviceSignals }; usedDevice: DeviceSignals }
  | { event: 'session.expired'; reason: ExpiryReason };
