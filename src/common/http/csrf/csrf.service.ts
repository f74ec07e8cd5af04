import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { doubleCsrf, DoubleCsrfUtilities } from 'csrf-csrf';
import type { Request, Response } from 'express';
import { createHmac } from 'node:crypto';
import type { AppConfiguration } from '../../../config/configuration';
import { hostOnlyCookieName } from '../../../config/cookie-names';

export const CSRF_HEADER = 'x-csrf-token';
export const CSRF_FORM_FIELD = '_csrf';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Sessions a token is bound to: a sign-in waiting for its second step is one, so its token dies with it. */
const SESSION_BOUND_STATES = new Set<string | undefined>(['active', 'unverified', 'pending']);

/**
 * Signed double-submit CSRF tokens (csrf-csrf). A token is bound to the
 * session it was issued for (or to "signed out" before sign-in), so a new
 * session needs a new token and a token never outlives its session.
 */
@Injectable()
export class CsrfService {
  private readonly csrf: DoubleCsrfUtilities;
  private readonly allowedOrigins: Set<string>;

  constructor(config: ConfigService<AppConfiguration, true>) {
    const session = config.get('session', { infer: true });
    // Own keys derived from the session secrets: one secret, one purpose.
    const secrets = session.secrets.map((secret: string) => createHmac('sha256', secret).update('csrf').digest('hex'));
    this.allowedOrigins = new Set(config.get('http', { infer: true }).corsOrigins);
    this.csrf = doubleCsrf({
      getSecret: () => secrets,
      // The token is an HMAC over this: bound to the session, revealing nothing of its id.
      getSessionIdentifier: (req) => (SESSION_BOUND_STATES.has(req.auth?.state) ? req.sessionID : ''),
      cookieName: hostOnlyCookieName('csrf', session.cookieSecure),
      cookieOptions: { sameSite: 'strict', path: '/', secure: session.cookieSecure, httpOnly: true },
      getCsrfTokenFromRequest: (req) => {
        const fromHeader = req.headers[CSRF_HEADER];
        if (typeof fromHeader === 'string') return fromHeader;
        const fromForm = (req.body as Record<string, unknown> | undefined)?.[CSRF_FORM_FIELD];
        return typeof fromForm === 'string' ? fromForm : undefined;
      },
    });
  }

  /** A token for the caller's current session, set in its cookie too. */
  token(req: Request, res: Response): string {
    return this.csrf.generateCsrfToken(req, res);
  }

  /** True for safe methods; otherwise the origin must be ours or allowed, and the token must match. */
  isAllowed(req: Request): boolean {
    if (SAFE_METHODS.has(req.method)) return true;
    return this.originAllowed(req) && this.csrf.validateRequest(req);
  }

  private originAllowed(req: Request): boolean {
    const origin = req.get('origin');
    if (origin === undefined) return req.get('sec-fetch-site') !== 'cross-site';
    return origin === `${req.protocol}://${req.get('host')}` || this.allowedOrigins.has(origin);
  }
}
