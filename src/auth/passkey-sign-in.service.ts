import { Injectable } from '@nestjs/common';
import type { AuthenticationResponseJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import type { Request, Response } from 'express';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-codes';
import { MetricsService } from '../metrics/metrics.service';
import { PasskeyFailure, PasskeyRefused, PasskeysService } from '../second-factors/passkeys.service';
import type { WebAuthnPurpose } from '../second-factors/webauthn-challenge.schema';
import { SessionEventsService } from '../session-events/session-events.service';
import { SessionHttpAdapter } from '../session-http/session-http.adapter';
import type { PendingSignIn } from '../sessions/auth-state';
import { AuthenticatedUser, toAuthenticatedUser } from '../users/authenticated-user';
import { UsersService } from '../users/users.service';
import { AuthService } from './auth.service';
import { BrowserSignIn } from './browser-sign-in.service';
import { DeviceCookieService } from './device-cookie.service';

/**
 * Passkeys at sign-in, on the request: alone (a discoverable credential, no
 * email typed), or as the second step after the password.
 *
 * The rule for a passkey alone: it is a whole sign-in, both factors, only
 * when the authenticator verified the person (the UV flag: a PIN, a
 * fingerprint, a face), so it stands for something known or something one
 * is, besides the device one has. A passkey that only shows presence is
 * refused on its own (401 AUTH_1013, `details.reason` `user_not_verified`,
 * recorded as mfa.failed) and gives no session: it still serves as the
 * second step after the password, where possession is what is asked.
 */
@Injectable()
export class PasskeySignIn {
  constructor(
    private readonly passkeys: PasskeysService,
    private readonly auth: AuthService,
    private readonly signIn: BrowserSignIn,
    private readonly http: SessionHttpAdapter,
    private readonly devices: DeviceCookieService,
    private readonly users: UsersService,
    private readonly events: SessionEventsService,
    private readonly metrics: MetricsService,
  ) {}

  /** Options for a sign-in with a passkey alone: any of this site's discoverable passkeys may answer. */
  aloneOptions(): Promise<PublicKeyCredentialRequestOptionsJSON> {
    return this.passkeys.authenticationOptions('sign-in');
  }

  /**
   * A sign-in with a passkey alone: a new session whose amr is `passkey`, and
   * the browser's device cookie. A disabled account is AUTH_1007, but only to
   * a passkey that verified its person. Not counted toward the lockout, so an
   * account locked by password guesses still lets its owner in this way.
   */
  async signInAlone(req: Request, res: Response, response: AuthenticationResponseJSON): Promise<{ user: AuthenticatedUser }> {
    let userId: string;
    try {
      const proof = await this.passkeys.authenticate('sign-in', response);
      userId = proof.userId;
      if (!proof.userVerified) throw new PasskeyRefused('user_not_verified', userId);
    } catch (error) {
      if (error instanceof PasskeyRefused) await this.recordFailure(error.userId, 'sign_in', error.reason);
      throw error;
    }
    const user = await this.auth.passkeyAccount(userId);
    const device = this.devices.deviceFor(req, user.email);
    await this.http.start(req, user, { trustedDevice: device !== undefined, amr: [{ method: 'passkey', at: new Date() }] });
    this.devices.issue(req, res, user.email);
    await this.events.secondFactorSucceeded(user, 'passkey', 'sign_in', SessionHttpAdapter.currentId(req));
    return { user: toAuthenticatedUser(user) };
  }

  /** Options for the second step: the pending account's passkeys (RES_3001 when it has none). */
  secondStepOptions(pending: PendingSignIn): Promise<PublicKeyCredentialRequestOptionsJSON> {
    return this.optionsFor('second-step', pending.user.id);
  }

  /**
   * The second step with a passkey: counted toward the lockout like a code
   * (AUTH_1013 when it does not verify), then the sign-in completes under a
   * new id with amr pwd + passkey. Possession is what this step asks, so a
   * passkey without user verification does here.
   */
  async completeSecondStep(
    req: Request,
    res: Response,
    pending: PendingSignIn,
    response: AuthenticationResponseJSON,
  ): Promise<AuthenticatedUser> {
    const device = this.devices.deviceFor(req, pending.user.email);
    await this.auth.proveCode(
      pending.user,
      'passkey',
      'sign_in',
      () => this.passkeys.proves('second-step', response, pending.user.id),
      device,
    );
    await this.signIn.complete(req, res, pending, { stamp: pending.stamp, device }, 'passkey');
    return pending.user;
  }

  /** Options for re-authentication with one of the signed-in account's passkeys (RES_3001 when it has none); the answer goes to POST /api/auth/reauth. */
  reauthOptions(user: AuthenticatedUser): Promise<PublicKeyCredentialRequestOptionsJSON> {
    return this.optionsFor('reauth', user.id);
  }

  private async optionsFor(purpose: WebAuthnPurpose, userId: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const options = await this.passkeys.authenticationOptions(purpose, userId);
    // Without a listed credential the browser would offer any passkey of this site: not this account's step.
    if (!options.allowCredentials?.length) throw new AppException(ErrorCode.NOT_FOUND);
    return options;
  }

  /** mfa.failed for the account the answer named, when it named one; counted in the metrics either way. */
  private async recordFailure(userId: string | undefined, where: string, reason: PasskeyFailure): Promise<void> {
    const user = userId ? await this.users.findById(userId) : null;
    if (user) await this.events.secondFactorFailed(user, 'passkey', reason === 'user_not_verified' ? reason : where);
    else this.metrics.secondFactor('passkey', 'failure');
  }
}
