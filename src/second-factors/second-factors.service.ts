import { Injectable } from '@nestjs/common';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-codes';
import type { SecondStepMethod } from '../sessions/second-step';
import { UsersService } from '../users/users.service';
import { newRecoveryCodes, normaliseRecoveryCode, recoveryCodeId } from './recovery-codes';
import { DEFAULT_TOTP_NAME } from './second-factor.constants';
import type { SecondFactorDocument, SecondFactorType } from './second-factor.schema';
import { SecondFactorsRepository } from './second-factors.repository';
import { matchTotpStep, newTotpSecret, totpUri } from './totp';

/** A factor as its owner sees it: never its secret. */
export interface FactorView {
  id: string;
  type: SecondFactorType;
  name: string;
  createdAt: string;
  confirmedAt?: string;
  lastUsedAt?: string;
}

/** An enrolment started: the secret, shown once, to type or scan (`otpauthUrl`). */
export interface TotpEnrolment {
  id: string;
  secret: string;
  otpauthUrl: string;
}

/** A checked enrolment code: the time step to spend when it is confirmed. */
export interface CheckedEnrolment {
  id: string;
  step: number;
}

/** Which second step a factor type completes (passkeys will add theirs). */
const METHOD_OF: Record<SecondFactorType, SecondStepMethod> = { totp: 'totp', passkey: 'passkey' };

/**
 * An account's second factors and recovery codes, on plain values (ids,
 * codes, times): enrolment, listing, removal, and checking a code. Whether a
 * check may run at all (the lockout), what it does to sessions and the
 * credential stamp, and what gets recorded are the callers' (src/auth).
 */
@Injectable()
export class SecondFactorsService {
  constructor(
    private readonly repository: SecondFactorsRepository,
    private readonly users: UsersService,
  ) {}

  async list(userId: string): Promise<FactorView[]> {
    return (await this.repository.findConfirmed(userId)).map(toFactorView);
  }

  /** How a sign-in of this account completes its second step; empty when it has no factor. */
  async methodsFor(userId: string): Promise<SecondStepMethod[]> {
    const factors = await this.repository.findConfirmed(userId);
    if (factors.length === 0) return [];
    const methods = new Set(factors.map((factor) => METHOD_OF[factor.type]));
    if ((await this.repository.countRecoveryCodes(userId)) > 0) methods.add('recovery');
    return [...methods];
  }

  async hasFactor(userId: string): Promise<boolean> {
    return (await this.repository.findConfirmed(userId)).length > 0;
  }

  /** A new, unconfirmed TOTP factor (replacing any earlier unconfirmed one): it counts once confirmTotp has run. */
  async startTotp(user: { id: string; email: string }, name = DEFAULT_TOTP_NAME, at = new Date()): Promise<TotpEnrolment> {
    await this.repository.deleteUnconfirmed(user.id, 'totp');
    const secret = newTotpSecret();
    const factor = await this.repository.create({ userId: user.id, type: 'totp', name, createdAt: at, totp: { secret } });
    return { id: String(factor._id), secret, otpauthUrl: totpUri(secret, user.email) };
  }

  /**
   * Checks the code that confirms enrolment `id`, writing nothing (the caller
   * bumps the credential stamp in between): RES_3001 when there is no such
   * unconfirmed factor of this user, undefined when the code is wrong.
   */
  async checkTotpEnrolment(userId: string, id: string, code: string, at = Date.now()): Promise<CheckedEnrolment | undefined> {
    const factor = await this.repository.findOfUser(userId, id);
    if (!factor || factor.type !== 'totp' || factor.confirmedAt || !factor.totp) throw new AppException(ErrorCode.NOT_FOUND);
    const step = matchTotpStep(factor.totp.secret, code, at);
    return step === undefined ? undefined : { id, step };
  }

  /**
   * Confirms a checked enrolment; a first factor comes with a fresh set of
   * recovery codes, shown this once (a later factor leaves the set as it is:
   * empty list). AUTH_1013 when a parallel confirmation won.
   */
  async confirmTotp(userId: string, checked: CheckedEnrolment, at = new Date()): Promise<{ factor: FactorView; recoveryCodes: string[] }> {
    const first = !(await this.hasFactor(userId));
    await this.beforeAdding(userId);
    if (!(await this.repository.confirmTotp(userId, checked.id, checked.step, at))) throw new AppException(ErrorCode.INVALID_CODE);
    const recoveryCodes = first ? await this.regenerateRecoveryCodes(userId, at) : [];
    const factor = await this.repository.findOfUser(userId, checked.id);
    if (!factor) throw new AppException(ErrorCode.NOT_FOUND);
    return { factor: toFactorView(factor), recoveryCodes };
  }

  /**
   * Whether `code` is a current code of one of the account's TOTP factors,
   * spending its time step: a code is accepted once, and of parallel requests
   * with it one wins.
   */
  async verifyTotp(userId: string, code: string, at = Date.now()): Promise<boolean> {
    for (const factor of await this.repository.findConfirmed(userId, 'totp')) {
      const step = factor.totp && matchTotpStep(factor.totp.secret, code, at, factor.totp.lastUsedStep);
      if (step !== undefined && (await this.repository.spendTotpStep(userId, String(factor._id), step, new Date(at)))) return true;
    }
    return false;
  }

  /** Spends one recovery code: how many are left, or undefined when it is not an unused code of this account. */
  async useRecoveryCode(userId: string, code: string): Promise<{ left: number } | undefined> {
    const typed = normaliseRecoveryCode(code);
    if (typed === undefined || !(await this.repository.spendRecoveryCode(recoveryCodeId(userId, typed)))) return undefined;
    return { left: await this.repository.countRecoveryCodes(userId) };
  }

  /** A new set of recovery codes, shown once; the old set stops working. */
  async regenerateRecoveryCodes(userId: string, at = new Date()): Promise<string[]> {
    const codes = newRecoveryCodes();
    await this.repository.replaceRecoveryCodes(
      userId,
      codes.map((code) => recoveryCodeId(userId, normaliseRecoveryCode(code)!)),
      at,
    );
    return codes;
  }

  recoveryCodesLeft(userId: string): Promise<number> {
    return this.repository.countRecoveryCodes(userId);
  }

  /** Removes one factor of the account (RES_3001 for anyone else's); with the last one go the recovery codes. */
  async remove(userId: string, id: string): Promise<FactorView> {
    const factor = await this.repository.findOfUser(userId, id);
    const version = await this.users.secondFactorsVersion(userId);
    if (!factor || !(await this.repository.delete(userId, id))) throw new AppException(ErrorCode.NOT_FOUND);
    if (!(await this.hasFactor(userId))) {
      await this.repository.deleteRecoveryCodes(userId);
      await this.users.clearSecondFactors(userId, version);
    }
    return toFactorView(factor);
  }

  /** Every factor and recovery code of the account goes (an admin's reset); how many factors there were. */
  async resetAll(userId: string): Promise<number> {
    const version = await this.users.secondFactorsVersion(userId);
    const removed = await this.repository.deleteAllOfUser(userId);
    await this.users.clearSecondFactors(userId, version);
    return removed;
  }

  /**
   * Before a factor is added: sign-ins read the account's factors from now
   * on (UserDocument.secondFactors). Before, not after, so no sign-in can
   * miss a factor that exists.
   */
  beforeAdding(userId: string): Promise<void> {
    return this.users.mayHaveSecondFactors(userId);
  }
}

/** A factor as its owner sees it. */
export function toFactorView(factor: SecondFactorDocument): FactorView {
  return {
    id: String(factor._id),
    type: factor.type,
    name: factor.name,
    createdAt: factor.createdAt.toISOString(),
    ...(factor.confirmedAt && { confirmedAt: factor.confirmedAt.toISOString() }),
    ...(factor.lastUsedAt && { lastUsedAt: factor.lastUsedAt.toISOString() }),
  };
}
