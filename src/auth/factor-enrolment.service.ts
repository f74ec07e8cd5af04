import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { CheckedEnrolment, FactorView, SecondFactorsService, TotpEnrolment } from '../second-factors/second-factors.service';
import { qrCodeSvg } from '../second-factors/qr-code';
import { SessionEventsService } from '../session-events/session-events.service';
import { SessionHttpAdapter } from '../session-http/session-http.adapter';
import type { AmrEntry } from '../sessions/amr';
import { RecentAuthPolicy } from '../sessions/recent-auth.policy';
import type { AuthenticatedUser } from '../users/authenticated-user';
import { AuthService } from './auth.service';
import { BrowserSignIn, changingSession } from './browser-sign-in.service';
import type { FactorOwner } from './second-step';
import { DeviceCookieService } from './device-cookie.service';

/** The account's factors as its owner sees them. */
export interface FactorList {
  items: FactorView[];
  recoveryCodesLeft: number;
}

/** An enrolment as the security page shows it: the QR code too. */
export type TotpEnrolmentPage = TotpEnrolment & { qrSvg: string };

/**
 * The signed-in person's second factors, on the request: enrolling an
 * authenticator app (also to complete a sign-in whose role requires a
 * factor), removing a factor, new recovery codes. Each change ends
 * every other session of the account (the credential stamp moves on) while
 * this one goes on under a new id; a code typed here counts toward the
 * lockout like a password.
 */
@Injectable()
export class FactorEnrolment {
  constructor(
    private readonly auth: AuthService,
    private readonly signIn: BrowserSignIn,
    private readonly factors: SecondFactorsService,
    private readonly http: SessionHttpAdapter,
    private readonly events: SessionEventsService,
    private readonly devices: DeviceCookieService,
    private readonly recentAuth: RecentAuthPolicy,
  ) {}

  async list(user: AuthenticatedUser): Promise<FactorList> {
    const [items, recoveryCodesLeft] = await Promise.all([this.factors.list(user.id), this.factors.recoveryCodesLeft(user.id)]);
    return { items, recoveryCodesLeft };
  }

  /** Starts an enrolment: nothing counts until a code confirms it, so nothing else changes yet. */
  async startTotp(owner: FactorOwner, name?: string): Promise<TotpEnrolment> {
    await this.assertMayChange(owner);
    return this.factors.startTotp(owner.user, name);
  }

  async startTotpWithQrCode(owner: FactorOwner, name?: string): Promise<TotpEnrolmentPage> {
    const enrolment = await this.startTotp(owner, name);
    return { ...enrolment, qrSvg: await qrCodeSvg(enrolment.otpauthUrl) };
  }

  /**
   * Confirms enrolment `id` with a code from the app (AUTH_1013 when wrong,
   * counted toward the lockout); the code proves the factor in this session,
   * or completes the sign-in of an account that had to enrol first (a new
   * session id, and the device cookie, on `res`). A first factor comes with
   * recovery codes, shown this once.
   */
  async confirmTotp(
    req: Request,
    res: Response,
    owner: FactorOwner,
    id: string,
    code: string,
  ): Promise<{ factor: FactorView; recoveryCodes: string[] }> {
    const { user, pending } = owner;
    await this.assertMayChange(owner);
    let checked: CheckedEnrolment | undefined;
    const device = this.devices.deviceFor(req, user.email);
    await this.auth.proveCode(
      user,
      'totp',
      'enrolment',
      async () => (checked = await this.factors.checkTotpEnrolment(user.id, id, code)) !== undefined,
      device,
    );
    const confirm = () => this.factors.confirmTotp(user.id, checked!);
    let confirmed: { factor: FactorView; recoveryCodes: string[] };
    if (pending) {
      const changed = await this.auth.changeFactors(user, changingSession(this.http, req), confirm);
      confirmed = changed.result;
      await this.signIn.completeAfterEnrolment(req, res, pending, { stamp: changed.user.stamp, device });
    } else {
      confirmed = await this.changeFactors(req, user, confirm, { method: 'otp', at: new Date() });
    }
    await this.events.factorEnrolled(user, 'totp');
    return confirmed;
  }

  /** Removes one factor (RES_3001 for anyone else's); with the last one go the recovery codes. */
  async remove(req: Request, owner: FactorOwner, id: string): Promise<void> {
    await this.assertMayChange(owner);
    const removed = await this.changeFactors(req, owner.user, () => this.factors.remove(owner.user.id, id));
    await this.events.factorRemoved(owner.user, removed.type);
  }

  /** A new set of recovery codes, shown this once; the old set stops working. */
  async regenerateRecoveryCodes(req: Request, owner: FactorOwner): Promise<string[]> {
    await this.assertMayChange(owner);
    return this.changeFactors(req, owner.user, () => this.factors.regenerateRecoveryCodes(owner.user.id));
  }

  /** Once the account has a factor, changing its factors needs a recent factor, not the password alone. */
  private async assertMayChange(owner: FactorOwner): Promise<void> {
    if (await this.factors.hasFactor(owner.user.id)) this.recentAuth.assertRecentFactor(owner);
  }

  private async changeFactors<T>(req: Request, user: AuthenticatedUser, write: () => Promise<T>, proved?: AmrEntry): Promise<T> {
    const { result, user: changed } = await this.auth.changeFactors(user, changingSession(this.http, req), write);
    await this.http.rotate(req, { user: changed, proved, reason: 'factors_changed' });
    return result;
  }
}
