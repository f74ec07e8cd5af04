import { Injectable, SetMetadata } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-codes';
import type { AppConfiguration } from '../config/configuration';
import { lastProof, SECOND_FACTOR_AMR } from './amr';
import type { ActiveSession } from './auth-state';

export const REQUIRES_RECENT_AUTH = 'requiresRecentAuth';
export const REAUTH_PATH = '/reauth';

/** The route is a sensitive action: the password must have been proved within REAUTH_MINUTES. */
export const RequiresRecentAuth = () => SetMetadata(REQUIRES_RECENT_AUTH, true);

/**
 * Recent authentication for sensitive actions: AUTH_1009 with
 * `details.reauthUrl` (pages are sent to /reauth and back). Routes that are
 * always sensitive carry @RequiresRecentAuth(); the ones sensitive only for
 * some input (creating an admin, ending another session) call `assertRecent`.
 */
@Injectable()
export class RecentAuthPolicy {
  private readonly reauthMs: number;

  constructor(config: ConfigService<AppConfiguration, true>) {
    this.reauthMs = config.get('security', { infer: true }).reauthMs;
  }

  assertRecent(session: ActiveSession, now = Date.now()): void {
    if (now - session.authenticatedAt.getTime() <= this.reauthMs) return;
    throw new AppException(ErrorCode.REAUTH_REQUIRED, { reauthUrl: REAUTH_PATH });
  }

  /**
   * Changes to the second factors of an account that has one: a factor must
   * have been proven within REAUTH_MINUTES, not the password alone, so a
   * stolen password cannot mint a factor of its own (`details.factor`).
   */
  assertRecentFactor(session: Pick<ActiveSession, 'amr'>, now = Date.now()): void {
    const proof = lastProof(session.amr, SECOND_FACTOR_AMR);
    if (proof && now - proof.getTime() <= this.reauthMs) return;
    throw new AppException(ErrorCode.REAUTH_REQUIRED, { reauthUrl: REAUTH_PATH, factor: true });
  }
}
