import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-codes';
import { isDatabaseUnavailable } from '../common/errors/error-mapping';
import type { AuthenticatedUser } from '../sessions/auth-state';
import { SessionEventsService } from '../sessions/session-events.service';
import { SessionsService } from '../sessions/sessions.service';
import { PasswordHasher } from '../users/password-hasher';
import { toAuthenticatedUser, UsersService } from '../users/users.service';
import { LoginThrottleService, SignInAttempt } from './login-throttle.service';

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
   * Counts the attempt, checks the credentials and starts a new session. The
   * attempt is counted before the password is checked, so a burst of parallel
   * guesses gets at most the allowed number checked. Unknown email and wrong
   * password give the same error after the same work (a dummy hash is
   * verified), and a disabled account is only revealed to someone who knows
   * its password. An outage is an outage (SYS_9002), never counted as a lock.
   */
  async signIn(req: Request, email: string, password: string): Promise<AuthenticatedUser> {
    try {
      const user = await this.verifyPassword(req, { email, ip: req.ip ?? '' }, password);
      if (user.disabled) {
        await this.events.loginFailed(req, { email, user }, 'disabled');
        throw new AppException(ErrorCode.ACCOUNT_DISABLED);
      }
      const authenticated = toAuthenticatedUser(user);
      await this.sessions.start(req, authenticated);
      await this.events.loginSucceeded(req, authenticated, SessionsService.currentId(req));
      return authenticated;
    } catch (error) {
      if (isDatabaseUnavailable(error)) this.events.signInUnavailable();
      throw error;
    }
  }

  /**
   * Changes the signed-in user's password after checking the current one (a
   * wrong one counts as a failed sign-in). Whoever knew the old password is out
   * everywhere: the other sessions end *before* the new hash is saved, so no
   * failure can leave them alive with the new password set, and once more
   * after it for any sign-in that raced in between. This session gets a new id.
   */
  async changePassword(req: Request, user: AuthenticatedUser, currentPassword: string, newPassword: string): Promise<void> {
    const stored = await this.verifyPassword(req, { email: user.email, ip: req.ip ?? '' }, currentPassword, 'currentPassword');
    this.users.assertAcceptablePassword(newPassword, stored.email);
    const revoker = { by: 'user', actorId: user.id, reason: 'password_changed' } as const;
    await this.sessions.revokeAllOfUser(req, user.id, revoker, SessionsService.currentId(req));
    await this.users.setPassword(stored, newPassword);
    await this.sessions.revokeAllOfUser(req, user.id, revoker, SessionsService.currentId(req));
    await this.sessions.rotate(req);
  }

  /** Ends the session server-side. The caller clears the cookie whatever happens here. */
  signOut(req: Request): Promise<void> {
    return this.sessions.end(req);
  }

  /**
   * The account behind `attempt.email` when `password` is its password; throws
   * AUTH_1006 when the attempt is over a limit and AUTH_1001 otherwise (with
   * `field` named in the details, for forms that ask for a current password).
   */
  private async verifyPassword(req: Request, attempt: SignInAttempt, password: string, field?: string) {
    try {
      await this.throttle.consume(attempt);
    } catch (error) {
      if (error instanceof AppException) await this.events.loginFailed(req, { email: attempt.email }, 'locked');
      throw error;
    }
    const user = await this.users.findByEmailWithPasswordHash(attempt.email);
    const valid = user ? await this.hasher.verify(user.passwordHash, password) : await this.hasher.verifyDummy(password);
    if (!user || !valid) {
      await this.events.loginFailed(req, { email: attempt.email, user }, 'invalid_credentials');
      throw new AppException(ErrorCode.INVALID_CREDENTIALS, field ? { fields: { [field]: 'is not your current password' } } : undefined);
    }
    await this.throttle.succeeded(attempt);
    return user;
  }
}
