import type { Filter } from 'mongodb';
import type { SessionDocument } from './session-document';

/**
 * Which of a user's sessions a credential change ends: a test on a document
 * already read, and the same test as a condition of the write that ends it,
 * so that a session that moved to another stamp meanwhile is not ended.
 */
export interface StaleSessions {
  matches(document: SessionDocument): boolean;
  filter: Filter<SessionDocument>;
}

/** The empty stamp stands for sessions from before stamps, which have none. */
const storedAs = (stamps: string[]) => (stamps.includes('') ? [...stamps, null] : stamps);
const stampOf = (document: SessionDocument) => document.session.stamp ?? '';

/** Sessions still under one of `stamps`. */
export function underStamps(stamps: string[]): StaleSessions {
  return {
    matches: (document) => stamps.includes(stampOf(document)),
    filter: { 'session.stamp': { $in: storedAs(stamps) } },
  };
}

/**
 * What a credential change from the `replaced` stamps to `current` leaves
 * behind: sessions still under a replaced stamp, and sessions that a change
 * which lost moved ahead from one (moveToStamp), to a stamp the account never
 * got. The winner's own session moved ahead from the same stamp, to `current`:
 * it stays.
 */
export function leftBehind(replaced: string[], current: string): StaleSessions {
  const under = underStamps(replaced);
  return {
    matches: (document) =>
      under.matches(document) ||
      (document.session.movedFrom !== undefined && replaced.includes(document.session.movedFrom) && stampOf(document) !== current),
    filter: {
      $or: [under.filter, { 'session.movedFrom': { $in: replaced }, 'session.stamp': { $ne: current } }],
    },
  };
}
