import { ErrorCode } from '../common/errors/error-codes';
import { AppException } from '../common/errors/app.exception';
import { Injectable } from '@nestjs/common';
import type { PublicKeyCredentialCreationOptionsJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import type { Request, Response } from 'express';
import type { SecondFactorMethod } from '../metrics/metrics.service';
import { CheckedPasskey, PasskeyRefused, PasskeysService } from '../second-factors/passkeys.service';
import { CheckedEnrolment, FactorView, SecondFactorsService, TotpEnrolment } from '../second-factors/second-factors.service';
import { qrCodeSvg } from '../second-factors/qr-code';
import { SessionEventsService } from '../session-events/session-events.service';
import { SessionHttpAdapter } from '../session-http/session-http.adapter';
import type { AmrEntry } from '../sessions/amr';
import { RecentAuthPolicy } from '../sessions/recent-auth.policy';
import type { AuthenticatedUser } from '../users/authenticated-user';
import { AuthService } from './auth.service';
import { AMR_OF, BrowserSignIn, changingSession } from './browser-sign-in.service';
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
    private readonly passkeys: PasskeysService,
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
    const { user } = owner;
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
    const confirmed = await this.enrol(req, res, owner, 'totp', () => this.factors.confirmTotp(user.id, checked!), device);
    await this.events.factorEnrolled(user, 'totp');
    return confirmed;
  }

  /** Options to create a passkey for this account, with a challenge only this account's next registration can answer. */
  async passkeyOptions(owner: FactorOwner): Promise<PublicKeyCredentialCreationOptionsJSON> {
    await this.assertMayChange(owner);
    return this.passkeys.registrationOptions(owner.user);
  }

  /**
   * Registers the passkey the browser just created (AUTH_1013 when its answer
   * does not verify, recorded as mfa.failed); creating it proves it in this
   * session, or completes the sign-in of an account that had to enrol first.
   * A first factor comes with recovery codes, shown this once.
   */
  async confirmPasskey(
    req: Request,
    res: Response,
    owner: FactorOwner,
    name: string,
    response: RegistrationResponseJSON,
  ): Promise<{ factor: FactorView; recoveryCodes: string[] }> {
    const { user } = owner;
    await this.assertMayChange(owner);
    let checked: CheckedPasskey;
    try {
      checked = await this.passkeys.checkRegistration(user.id, name, response);
    } catch (error) {
      if (error instanceof PasskeyRefused) await this.events.secondFactorFailed(user, 'passkey', 'enrolment');
      throw error;
    }
    const device = this.devices.deviceFor(req, user.email);
    const confirmed = await this.enrol(req, res, owner, 'passkey', () => this.passkeys.confirmRegistration(user.id, checked), device);
    await this.events.factorEnrolled(user, 'passkey');
    return confirmed;
  }

  /** Removes one factor (RES_3001 for anyone else's); with the last one go the recovery codes. */
  async remove(req: Request, owner: FactorOwner, id: string): Promise<void> {
    await this.assertMayChange(owner);
    await this.assertKeepsARequiredFactor(owner.user, id);
    const removed = await this.changeFactors(req, owner.user, () => this.factors.remove(owner.user.id, id));
    await this.events.factorRemoved(owner.user, removed.type);
  }

  /** A new set of recovery codes, shown this once; the old set stops working. */
  async regenerateRecoveryCodes(req: Request, owner: FactorOwner): Promise<string[]> {
    await this.assertMayChange(owner);
    return this.changeFactors(req, owner.user, () => this.factors.regenerateRecoveryCodes(owner.user.id));
  }

  /**
   * Stores a new factor, proven just now by `method`: the session goes on
   * under a new id with it in its amr, or the sign-in that had to enrol
   * completes (its device cookie on `res`).
   */
  private async enrol(
    req: Request,
    res: Response,
    { user, pending }: FactorOwner,
    method: SecondFactorMethod,
    confirm: () => Promise<{ factor: FactorView; recoveryCodes: string[] }>,
    device?: string,
  ): Promise<{ factor: FactorView; recoveryCodes: string[] }> {
    if (!pending) return this.changeFactors(req, user, confirm, { method: AMR_OF[method], at: new Date() });
    const changed = await this.auth.changeFactors(user, changingSession(this.http, req), confirm);
    await this.signIn.completeAfterEnrolment(req, res, pending, { stamp: changed.user.stamp, device }, method);
    return changed.result;
  }

  /** Once the account has a factor, changing its factors needs a recent factor, not the password alone. */
  /** A role in MFA_REQUIRED_ROLES keeps at least one factor: removing the last would leave a session its policy forbids. */
  private async assertKeepsARequiredFactor(user: AuthenticatedUser, id: string): Promise<void> {
    if (!this.auth.requiresFactor(user.role)) return;
    const others = (await this.factors.list(user.id)).filter((factor) => factor.id !== id && factor.confirmedAt);
    if (others.length > 0) return;
    throw new AppException(ErrorCode.INVALID_INPUT, {
      fields: { id: 'is your last second factor, and your role requires one: add another first' },
    });
  }

  private async assertMayChange(owner: FactorOwner): Promise<void> {
    if (await this.factors.hasFactor(owner.user.id)) this.recentAuth.assertRecentFactor(owner);
  }

  private async changeFactors<T>(req: Request, user: AuthenticatedUser, write: () => Promise<T>, proved?: AmrEntry): Promise<T> {
    const { result, user: changed } = await this.auth.changeFactors(user, changingSession(this.http, req), write);
    await this.http.rotate(req, { user: changed, proved, reason: 'factors_changed' });
    return result;
  }
}
