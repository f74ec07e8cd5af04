import { Injectable, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-codes';
import type { SecondFactorMethod } from '../metrics/metrics.service';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { PasskeysService } from '../second-factors/passkeys.service';
import { SecondFactorsService } from '../second-factors/second-factors.service';
import { SessionEventsService } from '../session-events/session-events.service';
import { SessionHttpAdapter } from '../session-http/session-http.adapter';
import type { AmrEntry } from '../sessions/amr';
import type { PendingSignIn } from '../sessions/auth-state';
import type { SecondStepMethod } from '../sessions/second-step';
import { AuthenticatedUser, toAuthenticatedUser, VerifiedUser } from '../users/authenticated-user';
import { AuthService, ChangingSession } from './auth.service';
import { DeviceCookieService } from './device-cookie.service';

/** How each second step shows in the session's amr (RFC 8176 names). */
export const AMR_OF: Record<SecondFactorMethod, AmrEntry['method']> = { totp: 'otp', recovery: 'recovery', passkey: 'passkey' };

/** What the password step answers: signed in, or a second step to take (`enrol`: a first factor to set up). */
export type SignInOutcome = { user: AuthenticatedUser } | { secondFactor: { methods: SecondStepMethod[]; enrol?: true } };

/** Why a session's rotation may be refused after its password change was saved: it ended meanwhile. */
const ENDED_MEANWHILE: ReadonlySet<ErrorCode> = new Set([ErrorCode.SESSION_INVALID, ErrorCode.ACCOUNT_DISABLED]);

/**
 * The HTTP side of proving who signs in (the password, then a second factor
 * when the account has one), shared by the JSON API and the pages: the
 * browser's device cookie goes in, the session and a device cookie come out.
 * The password and code logic itself is AuthService's, on plain values.
 */
@Injectable()
export class BrowserSignIn {
  private readonly logger = new Logger(BrowserSignIn.name);

  constructor(
    private readonly auth: AuthService,
    private readonly http: SessionHttpAdapter,
    private readonly devices: DeviceCookieService,
    private readonly factors: SecondFactorsService,
    private readonly events: SessionEventsService,
    private readonly passkeys: PasskeysService,
  ) {}

  /**
   * The password step. An account with a second factor (or whose role needs
   * one) gets a pending session that allows only the second step, whatever
   * device cookie the browser shows: a known browser skips no factor, and
   * gets its device cookie once the sign-in is complete.
   */
  async signIn(req: Request, res: Response, email: string, password: string): Promise<SignInOutcome> {
    const device = this.devices.deviceFor(req, email);
    const user = await this.auth.authenticate(email, password, device);
    if (user.secondStep) {
      const { methods, enrol } = user.secondStep;
      await this.http.startPending(req, user, user.secondStep);
      return { secondFactor: { methods, ...(enrol && { enrol }) } };
    }
    await this.issuing(user, () => this.http.start(req, user, { trustedDevice: device !== undefined }));
    this.devices.issue(req, res, user.email);
    return { user: toAuthenticatedUser(user) };
  }

  /** The second step with an authenticator-app code: AUTH_1013 when wrong or used already (counted toward the lockout). */
  async completeWithTotp(req: Request, res: Response, pending: PendingSignIn, code: string): Promise<AuthenticatedUser> {
    const device = this.devices.deviceFor(req, pending.user.email);
    await this.auth.proveCode(pending.user, 'totp', 'sign_in', () => this.factors.verifyTotp(pending.user.id, code), device);
    await this.complete(req, res, pending, { stamp: pending.stamp, device }, 'totp');
    return pending.user;
  }

  /**
   * The second step with a recovery code, spent here (AUTH_1013 when it is no
   * unused code of this account). Someone who needs one may have lost the
   * factor, or had it taken: the credential stamp moves on, so every other
   * session of the account ends. How many codes are left.
   */
  async completeWithRecoveryCode(
    req: Request,
    res: Response,
    pending: PendingSignIn,
    code: string,
  ): Promise<{ user: AuthenticatedUser; recoveryCodesLeft: number }> {
    const device = this.devices.deviceFor(req, pending.user.email);
    let left = 0;
    await this.auth.proveCode(
      pending.user,
      'recovery',
      'sign_in',
      async () => {
        const spent = await this.factors.useRecoveryCode(pending.user.id, code);
        left = spent?.left ?? 0;
        return spent !== undefined;
      },
      device,
    );
    await this.events.recoveryCodeUsed(pending.user, left);
    const { user: changed } = await this.auth.changeFactors(pending.user, changingSession(this.http, req), async () => undefined);
    await this.complete(req, res, pending, { stamp: changed.stamp, device }, 'recovery');
    return { user: pending.user, recoveryCodesLeft: left };
  }

  /**
   * Re-authentication with the password, an authenticator-app code or a
   * passkey (one of them, else VAL_2001): the session goes on under a new
   * id, sensitive actions are open again for REAUTH_MINUTES, and the method
   * joins its amr (factor changes on an account with a factor need a factor:
   * RecentAuthPolicy). A code or a passkey is counted toward the lockout like
   * a password; a passkey needs no user verification here, the session
   * having been proven already.
   */
  async reauthenticate(
    req: Request,
    user: AuthenticatedUser,
    { password, code, passkey }: { password?: string; code?: string; passkey?: AuthenticationResponseJSON },
  ): Promise<void> {
    if ([password, code, passkey].filter((given) => given !== undefined).length !== 1) {
      throw new AppException(ErrorCode.INVALID_INPUT, { fields: { password: 'give the password, a code or a passkey, one of them' } });
    }
    const device = this.devices.deviceFor(req, user.email);
    if (password !== undefined) {
      const proved = await this.auth.reauthenticate(user, password, device);
      return this.issuing(proved, () => this.http.reauthenticated(req, proved, { method: 'pwd', at: new Date() }));
    }
    const method: SecondFactorMethod = passkey ? 'passkey' : 'totp';
    const check = passkey ? () => this.passkeys.proves('reauth', passkey, user.id) : () => this.factors.verifyTotp(user.id, code!);
    await this.auth.proveCode(user, method, 'reauth', check, device);
    const proved = await this.auth.current(user);
    await this.http.reauthenticated(req, proved, { method: AMR_OF[method], at: new Date() });
    await this.events.secondFactorSucceeded(user, method, 'reauth', SessionHttpAdapter.currentId(req));
  }

  /** Which factors the re-authentication form offers besides the password (`factor`: any). */
  async reauthMethods(user: AuthenticatedUser): Promise<{ factor: boolean; totp: boolean; passkey: boolean }> {
    const methods = await this.factors.methodsFor(user.id);
    return { factor: methods.length > 0, totp: methods.includes('totp'), passkey: methods.includes('passkey') };
  }

  /**
   * A new password: the user's other sessions end, and this one goes on under
   * a new id and the new credential stamp. Once the password is saved, the
   * change is done: when this session was signed out or the account disabled
   * meanwhile, there is nothing to go on under, and the change still answers
   * as done. Returns whether this session goes on (if not, its cookie is the
   * caller's to clear).
   */
  async changePassword(req: Request, user: AuthenticatedUser, currentPassword: string, newPassword: string): Promise<boolean> {
    const changed = await this.auth.changePassword(user, currentPassword, newPassword, changingSession(this.http, req));
    try {
      await this.http.rotate(req, { user: changed, reason: 'password_changed' });
      return true;
    } catch (error) {
      if (error instanceof AppException && ENDED_MEANWHILE.has(error.code)) return false;
      throw error;
    }
  }

  /** A sign-in that had to enrol a first factor did, proving it with the enrolment (`method`): complete under stamp `stamp`. */
  completeAfterEnrolment(
    req: Request,
    res: Response,
    pending: PendingSignIn,
    proof: { stamp: string; device?: string },
    method: SecondFactorMethod,
  ): Promise<void> {
    return this.complete(req, res, pending, proof, method);
  }

  /** The sign-in, complete: a new session id proven by the password and `method`, and the browser's device cookie. */
  async complete(
    req: Request,
    res: Response,
    pending: PendingSignIn,
    { stamp, device }: { stamp: string; device?: string },
    method: SecondFactorMethod,
  ): Promise<void> {
    const user: VerifiedUser = { ...pending.user, stamp, ...(device && { device }) };
    const amr: AmrEntry[] = [
      { method: 'pwd', at: pending.createdAt },
      { method: AMR_OF[method], at: new Date() },
    ];
    await this.issuing(user, () => this.http.completeSignIn(req, user, { trustedDevice: device !== undefined, amr }));
    this.devices.issue(req, res, user.email);
    await this.events.secondFactorSucceeded(user, method, 'sign_in', SessionHttpAdapter.currentId(req));
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
    lost: () => http.endForLostChange(req),
  };
}
