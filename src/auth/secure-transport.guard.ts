import { CanActivate, ExecutionContext, Injectable, Logger, SetMetadata } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-codes';
import type { AppConfiguration } from '../config/configuration';

const SETS_SESSION_COOKIE = 'setsSessionCookie';

/** The route starts a session (sign-in): it needs a connection a Secure cookie can be set on. */
export const SetsSessionCookie = () => SetMetadata(SETS_SESSION_COOKIE, true);

/**
 * Sign-in routes: with Secure cookies on, a request Express does not see as
 * HTTPS would "succeed" without a cookie (express-session will not set a Secure
 * cookie on it) and the client would think it is signed in. Refuse it with
 * AUTH_1011 instead, and tell the operator once what to fix. Runs before the
 * CSRF guard: over plain HTTP the browser drops the Secure CSRF cookie too, and
 * "could not be verified" would hide the real cause. A sign-in that carries two
 * session cookies is refused with AUTH_1003 (and both cleared): its new cookie
 * could not be the one the browser sends back.
 */
@Injectable()
export class SecureTransportGuard implements CanActivate {
  private readonly logger = new Logger(SecureTransportGuard.name);
  private readonly cookieSecure: boolean;
  private warned = false;

  constructor(
    private readonly reflector: Reflector,
    config: ConfigService<AppConfiguration, true>,
  ) {
    this.cookieSecure = config.get('session', { infer: true }).cookieSecure;
  }

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    // Two session cookies (createExpressSession): the one this sign-in would set could be shadowed by the other.
    if (req.sessionCookieConflict && this.setsSessionCookie(context)) throw new AppException(ErrorCode.SESSION_INVALID);
    if (!this.cookieSecure || req.secure) return true;
    if (!this.setsSessionCookie(context)) return true;
    if (!this.warned) {
      this.warned = true;
      this.logger.warn(
        'Refused a sign-in over plain HTTP: COOKIE_SECURE is on, so no cookie could be set. Serve HTTPS, or behind ' +
          'a TLS proxy set TRUST_PROXY to its hop count or address so X-Forwarded-Proto is believed ' +
          '(COOKIE_SECURE=false only for local development).',
      );
    }
    throw new AppException(ErrorCode.HTTPS_REQUIRED);
  }

  private setsSessionCookie(context: ExecutionContext): boolean {
    return this.reflector.getAllAndOverride<boolean>(SETS_SESSION_COOKIE, [context.getHandler(), context.getClass()]) === true;
  }
}
