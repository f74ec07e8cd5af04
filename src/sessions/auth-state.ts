import type { ExpiryReason, SessionDeadlines } from './session-expiry-policy';

export interface AuthenticatedUser {
  id: string;
  email: string;
  name: string;
  role: 'user' | 'admin';
}

export interface ActiveSession extends SessionDeadlines {
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
