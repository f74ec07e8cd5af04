import { Injectable, SetMetadata } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-codes';
import type { AppConfiguration } from '../config/configuration';
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
}
