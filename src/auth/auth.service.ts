import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-codes';
import type { AuthenticatedUser } from '../sessions/auth-state';
import { SessionEventsService } from '../sessions/session-events.service';
import { SessionsService } from '../sessions/sessions.service';
import { PasswordHasher } from '../users/password-hasher';
import { toAuthenticatedUser, UsersService } from '../users/users.service';
import { LoginThrottleService } from './login-throttle.service';

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
   * Checks the credentials and starts a new session, unless the account or the
   * IP is locked after too many failures. Unknown email and wrong
   * password give the same error after the same work (a dummy hash is verified),
   * and a disabled account is only revealed to someone who knows its password.
   */
  async signIn(req: Request, email: string, password: string): Promise<AuthenticatedUser> {
    const ip = req.ip ?? '';
    try {
      await this.throttle.assertNotLocked(email, ip);
    } catch (error) {
      await this.events.loginFailed(req, email, 'locked');
      throw error;
    }
    const user = await this.users.findByEmailWithPasswordHash(email);
    const valid = user ? await this.hasher.verify(user.passwordHash, password) : await this.hasher.verifyDummy(password);
    if (!user || !valid) {
      await this.throttle.recordFailure(email, ip);
      await this.events.loginFailed(req, email, 'invalid_credentials', user?.id);
      throw new AppException(ErrorCode.INVALID_CREDENTIALS);
    }
    await this.throttle.recordSuccess(email);
    if (user.disabled) {
      await this.events.loginFailed(req, email, 'disabled', user.id);
      throw new AppException(ErrorCode.ACCOUNT_DISABLED);
    }
    const authenticated = toAuthenticatedUser(user);
    await this.sessions.start(req, authenticated);
    await this.events.loginSucceeded(req, authenticated, SessionsService.currentId(req));
    return authenticated;
  }

  /**
   * Changes the signed-in user's password after checking the current one (a
   * wrong one counts as a failed sign-in), and ends their other sessions: whoever
   * knew the old password is out everywhere but here.
   */
  async changePassword(req: Request, user: AuthenticatedUser, currentPassword: string, newPassword: string): Promise<void> {
    const ip = req.ip ?? '';
    await this.throttle.assertNotLocked(user.email, ip);
    const stored = await this.users.findByEmailWithPasswordHash(user.email);
    if (!stored || !(await this.hasher.verify(stored.passwordHash, currentPassword))) {
      await this.throttle.recordFailure(user.email, ip);
      throw new AppException(ErrorCode.INVALID_CREDENTIALS, { fields: { currentPassword: 'is not your current password' } });
    }
    await this.users.setPassword(stored, newPassword);
    await this.sessions.revokeAllOfUser(
      req,
      user.id,
      { by: 'user', actorId: user.id, reason: 'password_changed' },
      SessionsService.currentId(req),
    );
  }

  /** Ends the session server-side. The caller clears the cookie whatever happens here. */
  signOut(req: Request): Promise<void> {
    return this.sessions.end(req);
  }
}
