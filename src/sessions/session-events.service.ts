import { Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { sessionLogReference } from './session-id';
import type { ExpiryReason } from './session-expiry-policy';

/** One log line per session lifecycle event; sessions are named by a short hash, never the token. */
@Injectable()
export class SessionEventsService {
  constructor(@InjectPinoLogger(SessionEventsService.name) private readonly logger: PinoLogger) {}

  created(token: string, userId: string): void {
    this.logger.info({ event: 'session.created', session: sessionLogReference(token), userId }, 'session created');
  }

  expired(token: string, userId: string, reason: ExpiryReason): void {
    this.logger.info({ event: 'session.expired', session: sessionLogReference(token), userId, reason }, 'session expired');
  }

  destroyed(token: string, userId: string | undefined, cause: 'logout' | 'invalid'): void {
    this.logger.info({ event: 'session.destroyed', session: sessionLogReference(token), userId, cause }, 'session destroyed');
  }
}
