import { Injectable } from '@nestjs/common';
import { RequestContext } from '../common/context/request-context';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-codes';
import { isDatabaseUnavailable } from '../common/errors/error-mapping';
import { SessionEventsService } from '../session-events/session-events.service';
import { SessionsService } from '../sessions/sessions.service';
import { AuthenticatedUser, newCredentialStamp, toAuthenticatedUser, VerifiedUser } from '../users/authenticated-user';
import { PasswordHasher } from '../users/password-hasher';
import type { UserDocument } from '../users/user.schema';
import { UsersService } from '../users/users.service';
import { LoginThrottleService, SignInAttempt } from './login-throttle.service';

/** The session a password change is made from (SessionHttpAdapter does the work, on the request). */
export interface ChangingSession {
  id: string;
  /** Throws AUTH_1003, ending it, unless it was issued under `stamp`. */
  issuedUnder(stamp: string): Promise<void>;
  /** Moves it from stamp `from` to `to` ahead of the change; AUTH_1003 when it no longer can. */
  movesTo(from: string, to: string): Promise<void>;
}

/**
 * Passwords: checking them at sign-in, and changing them. The client's IP (for
 * the per-IP lockout) comes from the request context, so this runs the same
 * from a controller, the CLI or a test.
 */
@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersService,
    private readonly hasher: PasswordHasher,
    private readonly sessions: SessionsService,
    private readonly throttle: LoginThrottleService,
    private readonly events: SessionEventsService,
  ) {}

  /**
   * The account for these credentials, ready for a session. The attempt is
   * counted before the password is checked, so a burst of parallel guesses gets
   * at most the allowed number checked. Unknown email and wrong password give
   * the same error after the same work (a dummy hash is verified), and a
   * disabled account is only revealed to someone who knows its password. An
   * outage is an outage (SYS_9002), never counted as a lock.
   */
  async authenticate(email: string, password: string, device?: string): Promise<VerifiedUser> {
    const attempt = { email, ip: RequestContext.client().ip, device };
    try {
      const user = await this.verifyPassword(attempt, password);
      if (user.disabled) {
        await this.events.loginFailed({ email, user }, 'disabled');
        await this.noSessionFollows({ id: user.id, device });
        throw new AppException(ErrorCode.ACCOUNT_DISABLED);
      }
      return toVerifiedUser(user, device);
    } catch (error) {
      if (isDatabaseUnavailable(error)) this.events.signInUnavailable();
      throw error;
    }
  }

  /**
   * Proves the password again for sensitive actions; a wrong one counts toward
   * the lockout like a failed sign-in (AUTH_1001 naming `password`). The
   * account as it is now, with its credential stamp.
   */
  async reauthenticate(user: AuthenticatedUser, password: string, device?: string): Promise<VerifiedUser> {
    const attempt = { email: user.email, ip: RequestContext.client().ip, device };
    const stored = await this.verifyPassword(attempt, password, 'password');
    if (stored.disabled) {
      await this.noSessionFollows({ id: stored.id, device });
      throw new AppException(ErrorCode.ACCOUNT_DISABLED);
    }
    return toVerifiedUser(stored, device);
  }

  /**
   * A known browser proved the password but gets no session after all (the
   * account is disabled, or issuing it failed): its sign-in counter starts over
   * here, since no session's credential re-read will do it.
   */
  async noSessionFollows({ id, device }: { id: string; device?: string }): Promise<void> {
    if (device) await this.throttle.deviceSucceeded(id, device);
  }

  /**
   * Changes the user's password after checking the current one (a wrong one
   * counts as a failed sign-in), with a new credential stamp; returns the
   * account under it. Whoever knew the old password is out everywhere but the
   * `current` session: the other sessions end *before* the new hash is saved,
   * so no failure can leave them alive with the new password set, and once
   * more after it for any sign-in that raced in between. The current session
   * moves to the new stamp before the save, so the expiry pass finishing this
   * change cannot take it for a stale one. The hash is saved only while the
   * stamp is still the one the current password was proved under: a change
   * that came first (an admin disabling or demoting) wins; it ended every
   * other session before its write, the current one included, so none is left
   * under a stamp the account never got. A failure after the save leaves the
   * replaced stamp listed, and the expiry pass ends what is left under it. The
   * caller gives the current session a new id under the new stamp
   * (SessionHttpAdapter.rotate).
   */
  async changePassword(
    user: AuthenticatedUser,
    currentPassword: string,
    newPassword: string,
    current: ChangingSession,
  ): Promise<VerifiedUser> {
    const stored = await this.verifyPassword({ email: user.email, ip: RequestContext.client().ip }, currentPassword, 'currentPassword');
    this.users.assertAcceptablePassword(newPassword, stored.email);
    const proved = toVerifiedUser(stored);
    await current.issuedUnder(proved.stamp);
    const stamp = newCredentialStamp();
    const revoker = { by: 'user', actorId: user.id, reason: 'password_changed' } as const;
    await this.sessions.revokeStale(user.id, stamp, revoker, current.id);
    await current.movesTo(proved.stamp, stamp);
    if (!(await this.users.setPassword(stored, newPassword, proved.stamp, stamp))) throw new AppException(ErrorCode.SESSION_INVALID);
    await this.sessions.revokeStale(user.id, stamp, revoker, current.id);
    await this.users.staleSessionsEnded(user.id, [proved.stamp]);
    return { ...proved, stamp };
  }

  /**
   * The account behind `attempt.email` when `password` is its password; throws
   * AUTH_1006 when the attempt is over a limit and AUTH_1001 otherwise (with
   * `field` named in the details, for forms that ask for a current password).
   */
  private verifyPassword(attempt: SignInAttempt, password: string, field?: string): Promise<UserDocument> {
    // The place in the hash queue comes first: a check refused in a storm (SYS_9003) has done nothing else.
    return this.hasher.checking(async (check) => {
      const counted = await this.counted(attempt);
      const user = counted?.account ?? null;
      const valid = user ? await check.verify(user.passwordHash, password) : await check.verifyDummy(password);
      if (!user || !valid) {
        await this.events.loginFailed({ email: attempt.email, user }, 'invalid_credentials');
        throw new AppException(ErrorCode.INVALID_CREDENTIALS, field ? { fields: { [field]: 'is not your current password' } } : undefined);
      }
      // A known browser's point goes back with its session's credential re-read (or noSessionFollows).
      if (!counted?.device) await this.throttle.succeeded(attempt);
      return user;
    });
  }

  /**
   * Counts the attempt, then the account with its password hash (null: no such
   * account). A known browser's count reads the account in the same command;
   * one whose account is gone is counted like a stranger's.
   */
  private async counted({ device, ...attempt }: SignInAttempt): Promise<{ account: UserDocument; device?: string } | null> {
    // A refusal (AUTH_1006) is counted and its lock recorded by the throttle.
    const known = device ? await this.throttle.consumeOnDevice({ ...attempt, device }) : null;
    if (known) return { account: known, device };
    await this.throttle.consume(attempt);
    const account = await this.users.findByEmailWithPasswordHash(attempt.email);
    return account && { account };
  }
}

function toVerifiedUser(user: UserDocument, device?: string): VerifiedUser {
  return { ...toAuthenticatedUser(user), stamp: user.credentialStamp ?? '', ...(device ? { device } : {}) };
}
