import { EXPIRY_REASONS, Ending, ExpiryReason } from '../session-events/ending';

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
