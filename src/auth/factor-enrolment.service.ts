import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import type { PublicKeyCredentialCreationOptionsJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { CheckedPasskey, PasskeyRefused, PasskeysService } from '../second-factors/passkeys.service';
import { CheckedEnrolment, FactorView, SecondFactorsService, TotpEnrolment } from '../second-factors/second-factors.service';
import { qrCodeSvg } from '../second-factors/qr-code';
import { SessionEventsService } from '../session-events/session-events.service';
import { SessionHttpAdapter } from '../session-http/session-http.adapter';
import type { AmrEntry } from '../sessions/amr';
import type { ActiveSession } from '../sessions/auth-state';
import { RecentAuthPolicy } from '../sessions/recent-auth.policy';
import type { AuthenticatedUser } from '../users/authenticated-user';
import { AuthService } from './auth.service';
import { changingSession } from './browser-sign-in.service';
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
 * authenticator app, removing a factor, new recovery codes. Each change ends
 * every other session of the account (the credential stamp moves on) while
 * this one goes on under a new id; a code typed here counts toward the
 * lockout like a password.
 */
@Injectable()
export class FactorEnrolment {
  constructor(
    private readonly auth: AuthService,
    private readonly factors: SecondFactorsService,
    private readonly http: SessionHttpAdapter,
    private readonly events: SessionEventsService,
    private readonly devices: DeviceCookieService,
    private readonly recentAuth: RecentAuthPolicy,
    private readonly passkeys: PasskeysService,
  ) {}

  async list(user: AuthenticatedUser): Promise<FactorList> {
    const [items, recoveryCodesLeft] = await Promise.all([this.factors.list(user.id), this.factors.recoveryCodesLeft(user.id)]);
    return { items, recoveryCodesLeft };
  }

  /** Starts an enrolment: nothing counts until a code confirms it, so nothing else changes yet. */
  async startTotp(user: AuthenticatedUser, session: ActiveSession, name?: string): Promise<TotpEnrolment> {
    await this.assertMayChange(user, session);
    return this.factors.startTotp(user, name);
  }

  async startTotpWithQrCode(user: AuthenticatedUser, session: ActiveSession, name?: string): Promise<TotpEnrolmentPage> {
    const enrolment = await this.startTotp(user, session, name);
    return { ...enrolment, qrSvg: await qrCodeSvg(enrolment.otpauthUrl) };
  }

  /**
   * Confirms enrolment `id` with a code from the app (AUTH_1013 when wrong,
   * counted toward the lockout); the code proves the factor in this session.
   * A first factor comes with recovery codes, shown this once.
   */
  async confirmTotp(
    req: Request,
    user: AuthenticatedUser,
    session: ActiveSession,
    id: string,
    code: string,
  ): Promise<{ factor: FactorView; recoveryCodes: string[] }> {
    await this.assertMayChange(user, session);
    let checked: CheckedEnrolment | undefined;
    await this.auth.proveCode(
      user,
      'totp',
      'enrolment',
      async () => (checked = await this.factors.checkTotpEnrolment(user.id, id, code)) !== undefined,
      this.devices.deviceFor(req, user.email),
    );
    const proved: AmrEntry = { method: 'otp', at: new Date() };
    const confirmed = await this.changeFactors(req, user, () => this.factors.confirmTotp(user.id, checked!), proved);
    await this.events.factorEnrolled(user, 'totp');
    return confirmed;
  }

  /** Options to create a passkey for this account, with a challenge only this account's next registration can answer. */
  async passkeyOptions(user: AuthenticatedUser, session: ActiveSession): Promise<PublicKeyCredentialCreationOptionsJSON> {
    await this.assertMayChange(user, session);
    return this.passkeys.registrationOptions(user);
  }

  /**
   * Registers the passkey the browser just created (AUTH_1013 when its answer
   * does not verify, recorded as mfa.failed); creating it proves it in this
   * session. A first factor comes with recovery codes, shown this once.
   */
  async confirmPasskey(
    req: Request,
    user: AuthenticatedUser,
    session: ActiveSession,
    name: string,
    response: RegistrationResponseJSON,
  ): Promise<{ factor: FactorView; recoveryCodes: string[] }> {
    await this.assertMayChange(user, session);
    let checked: CheckedPasskey;
    try {
      checked = await this.passkeys.checkRegistration(user.id, name, response);
    } catch (error) {
      if (error instanceof PasskeyRefused) await this.events.secondFactorFailed(user, 'passkey', 'enrolment');
      throw error;
    }
    const proved: AmrEntry = { method: 'passkey', at: new Date() };
    const confirmed = await this.changeFactors(req, user, () => this.passkeys.confirmRegistration(user.id, checked), proved);
    await this.events.factorEnrolled(user, 'passkey');
    return confirmed;
  }

  /** Removes one factor (RES_3001 for anyone else's); with the last one go the recovery codes. */
  async remove(req: Request, user: AuthenticatedUser, session: ActiveSession, id: string): Promise<void> {
    await this.assertMayChange(user, session);
    const removed = await this.changeFactors(req, user, () => this.factors.remove(user.id, id));
    await this.events.factorRemoved(user, removed.type);
  }

  /** A new set of recovery codes, shown this once; the old set stops working. */
  async regenerateRecoveryCodes(req: Request, user: AuthenticatedUser, session: ActiveSession): Promise<string[]> {
    await this.assertMayChange(user, session);
    return this.changeFactors(req, user, () => this.factors.regenerateRecoveryCodes(user.id));
  }

  /** Once the account has a factor, changing its factors needs a recent factor, not the password alone. */
  private async assertMayChange(user: AuthenticatedUser, session: ActiveSession): Promise<void> {
    if (await this.factors.hasFactor(user.id)) this.recentAuth.assertRecentFactor(session);
  }

  private async changeFactors<T>(req: Request, user: AuthenticatedUser, write: () => Promise<T>, proved?: AmrEntry): Promise<T> {
    const { result, user: changed } = await this.auth.changeFactors(user, changingSession(this.http, req), write);
    await this.http.rotate(req, { user: changed, proved, reason: 'factors_changed' });
    return result;
  }
}
