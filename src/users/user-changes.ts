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
