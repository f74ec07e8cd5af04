import { Injectable, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { SessionHttpAdapter } from '../session-http/session-http.adapter';
import { AuthenticatedUser, toAuthenticatedUser, VerifiedUser } from '../users/authenticated-user';
import { AuthService, ChangingSession } from './auth.service';
import { DeviceCookieService } from './device-cookie.service';

/**
 * The HTTP side of proving a password, shared by the JSON API and the pages:
 * the browser's device cookie goes in, the session and a device cookie come
 * out. The password logic itself is AuthService's, on plain values.
 */
@Injectable()
export class BrowserSignIn {
  private readonly logger = new Logger(BrowserSignIn.name);

  constructor(
    private readonly auth: AuthService,
    private readonly http: SessionHttpAdapter,
    private readonly devices: DeviceCookieService,
  ) {}

  async signIn(req: Request, res: Response, email: string, password: string): Promise<AuthenticatedUser> {
    const device = this.devices.deviceFor(req, email);
    const user = await this.auth.authenticate(email, password, device);
    await this.issuing(user, () => this.http.start(req, user, { trustedDevice: device !== undefined }));
    this.devices.issue(req, res, user.email);
    return toAuthenticatedUser(user);
  }

  /** Re-authentication: the session goes on under a new id, and sensitive actions are open again for REAUTH_MINUTES. */
  async reauthenticate(req: Request, user: AuthenticatedUser, password: string): Promise<void> {
    const proved = await this.auth.reauthenticate(user, password, this.devices.deviceFor(req, user.email));
    await this.issuing(proved, () => this.http.reauthenticated(req, proved, { method: 'pwd', at: new Date() }));
  }

  /** A new password: the user's other sessions end, and this one goes on under a new id and the new credential stamp. */
  async changePassword(req: Request, user: AuthenticatedUser, currentPassword: string, newPassword: string): Promise<void> {
    const changed = await this.auth.changePassword(user, currentPassword, newPassword, changingSession(this.http, req));
    await this.http.rotate(req, { user: changed, reason: 'password_changed' });
  }

  /**
   * Issues the session for a proved password. If that fails, a known browser
   * still gets its sign-in point back (best effort: the failure is what the
   * caller hears about); the credential re-read that would have done so may
   * not have run.
   */
  private async issuing(user: VerifiedUser, issue: () => Promise<void>): Promise<void> {
    try {
      await issue();
    } catch (error) {
      await this.auth
        .noSessionFollows(user)
        .catch((settling: Error) => this.logger.warn(`Could not give a known browser its sign-in point back: ${settling.message}`));
      throw error;
    }
  }
}

/** The request's session as a credential change made from it sees it (AuthService.changeCredentials). */
export function changingSession(http: SessionHttpAdapter, req: Request): ChangingSession {
  return {
    id: SessionHttpAdapter.currentId(req),
    issuedUnder: (stamp) => http.assertIssuedUnder(req, stamp),
    movesTo: (from, to) => http.moveToStamp(req, from, to),
  };
}
