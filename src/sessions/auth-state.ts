import type { AuthenticatedUser } from '../users/authenticated-user';
import type { ExpiryReason, SessionDeadlines } from './session-expiry-policy';

/** The request's live session: its public id (a hash, never the token), times and deadlines. */
export interface ActiveSession extends SessionDeadlines {
  id: string;
  createdAt: Date;
  lastActivityAt: Date;
}

/** What the session cookie of a request amounts to, decided once per request. */
export type AuthState =
  | { state: 'anonymous' }
  | { state: 'invalid' }
  | { state: 'expired'; reason: ExpiryReason }
  /** A validly signed cookie whose session MongoDB could not load (sign-out only). */
  | { state: 'unverified' }
  | { state: 'active'; user: AuthenticatedUser; session: ActiveSession };
