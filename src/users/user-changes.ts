import type { RevokedBy } from '../metrics/metrics.service';

/** Who changed a user, and why: what the sessions the change ends are recorded with. */
export interface ChangeCause {
  by: RevokedBy;
  actorId?: string;
  reason: string;
}

/**
 * What a session copies of its user (name, email, role; and it exists only
 * while the account is enabled) follows the account: UsersService publishes
 * each change to it, and the subscriber (SessionsService) applies it.
 */
export interface UserChangeSubscriber {
  /**
   * The account's credential stamp is about to become `stamp` (its role or
   * disabled flag changes): whatever was issued under another stamp ends.
   * Published before the write (so a failure after it leaves nothing under
   * the old stamp), and again before a retried one.
   */
  credentialsChanging(userId: string, stamp: string, cause: ChangeCause): Promise<void>;
  /**
   * The change is written: what it left behind ends (sign-ins that raced in
   * under the replaced stamp). Not everything under another stamp: a
   * password changed after the write is under a newer one, and its session
   * stays.
   */
  credentialsChanged(userId: string, cause: ChangeCause): Promise<void>;
  /** The name or email changed: sessions show it from their next request on. */
  profileChanged(user: { id: string; email: string; name: string }): Promise<void>;
}

/**
 * What the audit trail records of an admin's change to an account. It is
 * written with the change, on the account (User.pendingEvents), and recorded
 * as a session event once the change is: by the request that made it, or by
 * the expiry pass when that request failed after its write.
 */
export interface AccountEvent {
  /** Unique to the change and the type: the event's `_id`, so that whoever records it, it is recorded once. */
  key: string;
  type: 'user.disabled' | 'user.enabled' | 'user.role_changed' | 'mfa.reset';
  userId: string;
  email: string;
  actorId: string;
  reason?: string;
  count?: number;
  /** When the change was made (ISO 8601), and the client of the request that made it. */
  at: string;
  ip: string;
  userAgent: string;
  correlationId: string;
}
