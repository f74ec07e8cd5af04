import type { RevokedBy } from '../metrics/metrics.service';
import type { DeviceSignals } from '../devices/device-binding';
import { EXPIRY_REASONS, ExpiryReason } from './session-expiry-policy';

/** Why a session continues under a new id (`session.rotated`). */
export type RotationReason = 'reauthenticated' | 'password_changed';

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

/** The mark's `endedReason` of any ending that is not an expiry: the owner's next request is told AUTH_1003. */
export const ENDED_OTHERWISE = 'ended';

export type EndedReason = ExpiryReason | typeof ENDED_OTHERWISE;

/** An expiry keeps its reason in the mark, so the owner's next request learns it (AUTH_1002). */
export function endedReasonOf(ending: Ending): EndedReason {
  return ending.event === 'session.expired' ? ending.reason : ENDED_OTHERWISE;
}

export function isExpiryReason(reason: EndedReason | undefined): reason is ExpiryReason {
  return (EXPIRY_REASONS as readonly string[]).includes(reason ?? '');
}
