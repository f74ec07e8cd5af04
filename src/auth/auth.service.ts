import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-codes';
import type { AuthenticatedUser } from '../sessions/auth-state';
import { SessionsService } from '../sessions/sessions.service';
import { PasswordHasher } from '../users/password-hasher';
import { toAuthenticatedUser, UsersService } from '../users/users.service';

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersService,
    private readonly hasher: PasswordHasher,
    private readonly sessions: SessionsService,
  ) {}

  /**
   * Checks the credentials and starts a new session. Unknown email and wrong
   * password give the same error after the same work (a dummy hash is verified),
   * and a disabled account is only revealed to someone who knows its password.
   */
  async signIn(req: Request, email: string, password: string): Promise<AuthenticatedUser> {
    const user = await this.users.findByEmailWithPasswordHash(email);
    const valid = user ? await this.hasher.verify(user.passwordHash, password) : await this.hasher.verifyDummy(password);
    if (!user || !valid) throw new AppException(ErrorCode.INVALID_CREDENTIALS);
    if (user.disabled) throw new AppException(ErrorCode.ACCOUNT_DISABLED);
    const authenticated = toAuthenticatedUser(user);
    await this.sessions.start(req, authenticated);
    return authenticated;
  }

  /** Ends the session server-side. The caller clears the cookie whatever happens here. */
  signOut(req: Request): Promise<void> {
    return this.sessions.end(req, 'logout');
  }
}
