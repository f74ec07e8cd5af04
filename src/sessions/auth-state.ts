import type { AuthenticatedUser } from '../users/authenticated-user';
import type { AmrEntry } from './amr';
import type { SecondStep } from './second-step';
import type { ExpiryReason } from '../session-events/ending';
import type { SessionDeadlines } from './session-expiry-policy';

/** The request's live session: its public id (a hash, never the token), times and deadlines. */
export interface ActiveSession extends SessionDeadlines {
  id: string;
  createdAt: Date;
  lastActivityAt: Date;
  /** When the password was last proved in this session (sign-in or re-authentication). */
  authenticatedAt: Date;
  /** How it was proven, each method with when it last was. */
  amr: AmrEntry[];
  /** Older sessions this sign-in ended under SESSION_MAX_PER_USER (the dashboard says so). */
  endedAtSignIn: number;
}

/** What the session cookie of a request amounts to, decided once per request. */
export type AuthState =
  | { state: 'anonymous' }
  | { state: 'invalid' }
  | { state: 'expired'; reason: ExpiryReason }
  /** A validly signed cookie whose session MongoDB could not load (sign-out only). */
  | { state: 'unverified' }
  /** Used from another device than it signed in with (see sameDevice): ended. */
  | { state: 'device_changed' }
  | { state: 'active'; user: AuthenticatedUser; session: ActiveSession }
  /** The password was proved; the sign-in waits for its second step (nothing else is allowed). */
  | { state: 'pending'; pending: PendingSignIn };

/** A sign-in waiting for its second step: who, under which credential stamp, since when, and how it may finish. */
export interface PendingSignIn {
  id: string;
  user: AuthenticatedUser;
  stamp: string;
  createdAt: Date;
  secondStep: SecondStep;
}
