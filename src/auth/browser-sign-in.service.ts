import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { SessionsService } from '../sessions/sessions.service';
import type { AuthenticatedUser } from '../users/authenticated-user';
import { AuthService } from './auth.service';
import { DeviceCookieService } from './device-cookie.service';

/**
 * The HTTP side of proving a password, shared by the JSON API and the pages:
 * the browser's device cookie goes in, the session and a device cookie come
 * out. The password logic itself is AuthService's, on plain values.
 */
@Injectable()
export class BrowserSignIn {
  constructor(
    private readonly auth: AuthService,
    private readonly sessions: SessionsService,
    private readonly devices: DeviceCookieService,
  ) {}

  async signIn(req: Request, res: Response, email: string, password: string): Promise<AuthenticatedUser> {
    const device = this.devices.deviceFor(req, email);
    const user = await this.auth.authenticate(email, password, device);
    await this.sessions.start(req, user, { trustedDevice: device !== undefined });
    this.devices.issue(req, res, user.email);
    return user;
  }

  /** Re-authentication: sensitive actions are open again for REAUTH_MINUTES. */
  async reauthenticate(req: Request, user: AuthenticatedUser, password: string): Promise<void> {
    await this.auth.reauthenticate(user, password, this.devices.deviceFor(req, user.email));
    await this.sessions.reauthenticated(req, user);
  }
}
