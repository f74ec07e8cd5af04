import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { RequestContext } from '../common/context/request-context';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-codes';
import { isDatabaseUnavailable } from '../common/errors/error-mapping';
import type { AppConfiguration } from '../config/configuration';
import type { UserRole } from '../config/roles';
import type { SecondFactorMethod } from '../metrics/metrics.service';
import { SecondFactorsService } from '../second-factors/second-factors.service';
import type { SecondStep } from '../sessions/second-step';
import { SessionEventsService } from '../session-events/session-events.service';
import { SessionsService } from '../sessions/sessions.service';
import { AuthenticatedUser, newCredentialStamp, toAuthenticatedUser, VerifiedUser } from '../users/authenticated-user';
import { PasswordHasher } from '../users/password-hasher';
import type { UserDocument } from '../users/user.schema';
import { UsersService } from '../users/users.service';
import { LoginThrottleService, SignInAttempt } from './login-throttle.service';

/** The session a password change is made from (SessionHttpAdapter does the work, on the request). */
export interface ChangingSession {
  id: string;
  /** Throws AUTH_1003, ending it, unless it was issued under `stamp`. */
  issuedUnder(stamp: string): Promise<void>;
  /** Moves it from stamp `from` to `to` ahead of the change; AUTH_1003 when it no longer can. */
  movesTo(from: string, to: string): Promise<void>;
  /** The change lost to one that came first: it ends, AUTH_1003. */
  lost(): Promise<never>;
}

/** A proved password, and the second step the sign-in still needs, if any. */
export type ProvedPassword = VerifiedUser & { secondStep?: SecondStep };

/**
 * A counted password check that succeeded: `settle` starts the count over,
 * `refund` only takes this attempt back (a second step follows), once the
 * caller knows which.
 */
interface CheckedPassword {
  user: UserDocument;
  settle(): Promise<void>;
  refund(): Promise<void>;
}

/**
 * Passwords: checking them at sign-in, and changing them. The client's IP (for
 * the per-IP lockout) comes from the request context, so this runs the same
 * from a controller, the CLI or a test.
 */
@Injectable()
export class AuthService {
  private readonly logger = new Logger(AuthService.name);

  constructor(
    private readonly users: UsersService,
    private readonly hasher: PasswordHasher,
    private readonly sessions: SessionsService,
    private readonly throttle: LoginThrottleService,
    private readonly events: SessionEventsService,
    private readonly factors: SecondFactorsService,
    config: ConfigService<AppConfiguration, true>,
  ) {
    this.mfaRequiredRoles = config.get('secondFactors', { infer: true }).requiredRoles;
  }

  private readonly mfaRequiredRoles: UserRole[];

  /**
   * The account for these credentials, ready for a session. The attempt is
   * counted before the password is checked, so a burst of parallel guesses gets
   * at most the allowed number checked. Unknown email and wrong password give
   * the same error after the same work (a dummy hash is verified), and a
   * disabled account is only revealed to someone who knows its password. An
   * outage is an outage (SYS_9002), never counted as a lock. When a second
   * step follows (the account has a factor, or its role needs one), only
   * this attempt is taken back: the count starts over when that step
   * succeeds, so a known password never wipes out code guesses. A known
   * browser's point stays until then.
   */
  async authenticate(email: string, password: string, device?: string): Promise<ProvedPassword> {
    const attempt = { email, ip: RequestContext.client().ip, device };
    try {
      const { user, settle, refund } = await this.verifyPassword(attempt, password);
      if (user.disabled) {
        await settle();
        await this.events.loginFailed({ email, user }, 'disabled');
        await this.noSessionFollows({ id: user.id, device });
        throw new AppException(ErrorCode.ACCOUNT_DISABLED);
      }
      const secondStep = await this.secondStepFor(user);
      if (secondStep) {
        await refund();
        return { ...toVerifiedUser(user), secondStep };
      }
      await settle();
      return toVerifiedUser(user, device);
    } catch (error) {
      if (isDatabaseUnavailable(error)) this.events.signInUnavailable();
      throw error;
    }
  }

  /**
   * Proves the password again for sensitive actions; a wrong one counts toward
   * the lockout like a failed sign-in (AUTH_1001 naming `password`). The
   * account as it is now, with its credential stamp.
   */
  async reauthenticate(user: AuthenticatedUser, password: string, device?: string): Promise<VerifiedUser> {
    const attempt = { email: user.email, ip: RequestContext.client().ip, device };
    const { user: stored, settle, refund } = await this.verifyPassword(attempt, password, 'password');
    // With a factor, the password alone never starts the count over: code guesses between two re-authentications add up.
    if (stored.secondFactors && (await this.factors.hasFactor(stored.id))) await refund();
    else await settle();
    if (stored.disabled) {
      await this.noSessionFollows({ id: stored.id, device });
      throw new AppException(ErrorCode.ACCOUNT_DISABLED);
    }
    return toVerifiedUser(stored, device);
  }

  /**
   * The account a verified passkey belongs to, ready for a session: no
   * password and no lockout count (a signature is not guessed). A disabled
   * account is AUTH_1007, recorded; a deleted one has no passkeys left to
   * verify, so undefined here is a race with its deletion (AUTH_1003).
   */
  async passkeyAccount(userId: string): Promise<VerifiedUser> {
    const user = await this.users.findById(userId);
    if (!user) throw new AppException(ErrorCode.SESSION_INVALID);
    if (user.disabled) {
      await this.events.loginFailed({ email: user.email, user }, 'disabled');
      throw new AppException(ErrorCode.ACCOUNT_DISABLED);
    }
    return toVerifiedUser(user);
  }

  /**
   * A known browser proved the password but gets no session after all (the
   * account is disabled, or issuing it failed): its sign-in counter starts over
   * here, since no session's credential re-read will do it.
   */
  async noSessionFollows({ id, device }: { id: string; device?: string }): Promise<void> {
    if (device) await this.throttle.deviceSucceeded(id, device);
  }

  /**
   * Changes the user's password after checking the current one (a wrong one
   * counts as a failed sign-in), with a new credential stamp; returns the
   * account under it. Whoever knew the old password is out everywhere but the
   * `current` session (see changeCredentials); the hash is saved only while
   * the stamp is still the one the current password was proved under. The
   * caller gives the current session a new id under the new stamp
   * (SessionHttpAdapter.rotate).
   */
  async changePassword(
    user: AuthenticatedUser,
    currentPassword: string,
    newPassword: string,
    current: ChangingSession,
  ): Promise<VerifiedUser> {
    const checked = await this.verifyPassword({ email: user.email, ip: RequestContext.client().ip }, currentPassword, 'currentPassword');
    await checked.settle();
    const stored = checked.user;
    this.users.assertAcceptablePassword(newPassword, stored.email);
    const proved = toVerifiedUser(stored);
    const stamp = await this.changeCredentials(user.id, proved.stamp, current, 'password_changed', (from, to) =>
      this.users.setPassword(stored, newPassword, from, to),
    );
    return { ...proved, stamp };
  }

  /** The account as it is now, with its credential stamp, for a session that goes on after a code proved it (AUTH_1007 once disabled). */
  async current(user: AuthenticatedUser): Promise<VerifiedUser> {
    const now = await this.users.currentCredentials(user.id);
    if (!now) throw new AppException(ErrorCode.SESSION_INVALID);
    if (now.disabled) throw new AppException(ErrorCode.ACCOUNT_DISABLED);
    return { ...toAuthenticatedUser(user), stamp: now.stamp };
  }

  /**
   * A change of the account's second factors, made from `current` (enrolment,
   * removal, new recovery codes): `write` makes it, and the credential stamp
   * moves on with it, so every other session ends while `current` goes on
   * under the new stamp (the caller gives it a new id: SessionHttpAdapter.rotate).
   * The factors are written before the stamp: a sign-in reads the stamp
   * before the factors, so one that saw the factors as they were holds the
   * old stamp, and its session ends. What `write` returned, and the account
   * under the new stamp.
   */
  async changeFactors<T>(
    user: AuthenticatedUser,
    current: ChangingSession,
    write: () => Promise<T>,
  ): Promise<{ result: T; user: VerifiedUser }> {
    const now = await this.users.currentCredentials(user.id);
    if (!now || now.disabled) throw new AppException(now ? ErrorCode.ACCOUNT_DISABLED : ErrorCode.SESSION_INVALID);
    let result: T | undefined;
    const stamp = await this.changeCredentials(user.id, now.stamp, current, 'factors_changed', async (from, to) => {
      result = await write();
      return this.users.replaceStamp(user.id, from, to);
    });
    return { result: result as T, user: { ...toAuthenticatedUser(user), stamp } };
  }

  /**
   * A one-time code typed for `user`'s account, counted toward the
   * account's and the IP's lockout before it is checked, like a stranger's
   * password, also from a known browser: however many arrive at once, at
   * most the allowed number are checked. `check` says whether it is right, and spends it. A right one
   * gives the attempt its points back; a wrong one is AUTH_1013, recorded
   * (`where` it was typed).
   */
  async proveCode(
    user: { id: string; email: string },
    method: SecondFactorMethod,
    where: string,
    check: () => Promise<boolean>,
    device?: string,
  ): Promise<void> {
    // Never on a device counter: each device cookie, also one minted before the account had a factor, would bring its own budget of guesses.
    const attempt = { email: user.email, ip: RequestContext.client().ip };
    const counted = await this.counted(attempt);
    if (!counted || String(counted.account._id) !== user.id || !(await check())) {
      await this.events.secondFactorFailed(user, method, where);
      throw new AppException(ErrorCode.INVALID_CODE);
    }
    await this.throttle.succeeded(attempt);
    // A known browser's point from the password step goes back with the sign-in this completes.
    if (device) await this.throttle.deviceSucceeded(user.id, device);
  }

  /**
   * A credential change from stamp `proved` made from `current`. The current
   * session moves to the new stamp first: so nothing that ends the sessions
   * under `proved` ends it, and so a change whose session another change
   * ended while this one checked the password stops there. The sessions still
   * under `proved` end *before* `write` saves the change, so no failure can
   * leave them alive with it; not those that other changes from `proved`
   * moved ahead, as one of those changes may win instead. `write` saves only
   * while the stamp is still `proved` (false otherwise): a change that came
   * first (another from `proved`, an admin disabling or demoting) wins, and
   * this session ends. After the save, what the account's changes left
   * behind ends (SessionsService.revokeLeftBehind: sign-ins that raced in
   * under `proved`, sessions of changes that lost, and what an earlier change
   * whose clean-up failed left). A save that failed is checked against the
   * account (landedAfterAll): one that landed goes on as saved; otherwise the
   * session moves back (best effort), so that trying again from it works
   * instead of finding it under a stamp the account never got. A failure
   * after the save leaves the replaced stamp listed, and the expiry pass ends
   * what is left behind.
   * The new stamp.
   */
  private async changeCredentials(
    userId: string,
    proved: string,
    current: ChangingSession,
    reason: string,
    write: (from: string, to: string) => Promise<boolean>,
  ): Promise<string> {
    await current.issuedUnder(proved);
    const stamp = newCredentialStamp();
    const revoker = { by: 'user', actorId: userId, reason } as const;
    await current.movesTo(proved, stamp);
    let saved: boolean;
    try {
      await this.sessions.revokeUnder(userId, proved, revoker, current.id);
      saved = await write(proved, stamp);
    } catch (error) {
      if (!(await this.landedAfterAll(userId, proved, stamp, current))) throw error;
      saved = true;
    }
    // The change that came first ends this session too (leftBehind); ending it here closes the gap until then.
    if (!saved) await current.lost();
    await this.sessions.revokeLeftBehind(userId, revoker, { id: current.id, stamp });
    return stamp;
  }

  /**
   * After a credential change's save failed: true when it landed after all
   * (its answer was lost), as the account's stamp says; the change then goes
   * on as saved. When the account is still under `proved`, the session moves
   * back to it, so that trying again from it works. Otherwise (the account
   * unreadable, or under a third stamp) the session stays under `stamp`:
   * moved back under a stamp a landed save replaced, it could outlive the
   * clean-up of that stamp; where it is, whatever ends sessions moved ahead
   * from `proved`, or under a replaced `stamp`, ends it, and so does the next
   * credential check from it.
   */
  private async landedAfterAll(userId: string, proved: string, stamp: string, current: ChangingSession): Promise<boolean> {
    const now = await this.users.currentCredentials(userId).catch(() => null);
    if (now?.stamp === stamp) return true;
    if (now?.stamp === proved) {
      await current
        .movesTo(stamp, proved)
        .catch((undo: Error) => this.logger.warn(`Could not move a session back after a failed credential change: ${undo.message}`));
    }
    return false;
  }

  /** True when accounts of `role` must have a second factor (MFA_REQUIRED_ROLES). */
  requiresFactor(role: UserRole): boolean {
    return this.mfaRequiredRoles.includes(role);
  }

  /** What a sign-in of this account needs after the password: its factors, or enrolment when its role requires one. */
  private async secondStepFor(user: UserDocument): Promise<SecondStep | undefined> {
    // The account's flag, read with the password hash, spares the read of factors it cannot have.
    const methods = user.secondFactors ? await this.factors.methodsFor(String(user._id)) : [];
    if (methods.length > 0) return { methods, enrol: false };
    return this.requiresFactor(user.role) ? { methods: [], enrol: true } : undefined;
  }

  /**
   * The account behind `attempt.email` when `password` is its password; throws
   * AUTH_1006 when the attempt is over a limit and AUTH_1001 otherwise (with
   * `field` named in the details, for forms that ask for a current password).
   */
  private verifyPassword(attempt: SignInAttempt, password: string, field?: string): Promise<CheckedPassword> {
    // The place in the hash queue comes first: a check refused in a storm (SYS_9003) has done nothing else.
    return this.hasher.checking(async (check) => {
      const counted = await this.counted(attempt);
      const user = counted?.account ?? null;
      const valid = user ? await check.verify(user.passwordHash, password) : await check.verifyDummy(password);
      if (!user || !valid) {
        await this.events.loginFailed({ email: attempt.email, user }, 'invalid_credentials');
        throw new AppException(ErrorCode.INVALID_CREDENTIALS, field ? { fields: { [field]: 'is not your current password' } } : undefined);
      }
      // A known browser's point goes back with its session's credential re-read (or noSessionFollows).
      const known = counted?.device !== undefined;
      return {
        user,
        settle: () => (known ? Promise.resolve() : this.throttle.succeeded(attempt)),
        refund: () => (known ? Promise.resolve() : this.throttle.refund(attempt)),
      };
    });
  }

  /**
   * Counts the attempt, then the account with its password hash (null: no such
   * account). A known browser's count reads the account in the same command;
   * one whose account is gone is counted like a stranger's.
   */
  private async counted({ device, ...attempt }: SignInAttempt): Promise<{ account: UserDocument; device?: string } | null> {
    // A refusal (AUTH_1006) is counted and its lock recorded by the throttle.
    const known = device ? await this.throttle.consumeOnDevice({ ...attempt, device }) : null;
    if (known) return { account: known, device };
    await this.throttle.consume(attempt);
    const account = await this.users.findByEmailWithPasswordHash(attempt.email);
    return account && { account };
  }
}

function toVerifiedUser(user: UserDocument, device?: string): VerifiedUser {
  return { ...toAuthenticatedUser(user), stamp: user.credentialStamp ?? '', ...(device ? { device } : {}) };
}
