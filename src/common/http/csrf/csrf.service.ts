import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { doubleCsrf, DoubleCsrfUtilities } from 'csrf-csrf';
import type { Request, Response } from 'express';
import { unsign } from 'cookie-signature';
import { createHmac } from 'node:crypto';
import type { AppConfiguration } from '../../../config/configuration';
import { hostOnlyCookieName } from '../../../config/cookie-names';

export const CSRF_HEADER = 'x-csrf-token';
export const CSRF_FORM_FIELD = '_csrf';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Sessions a token is bound to: a sign-in waiting for its second step is one, so its token dies with it. */
const SESSION_BOUND_STATES = new Set<string | undefined>(['active', 'unverified', 'pending']);
/** A cookie that still names a session which ended: by another device, an admin, expiry, a device change. */
const ENDED_STATES = new Set<string | undefined>(['invalid', 'expired', 'device_changed']);
/** express-session's prefix of a signed cookie value. */
const SIGNED_PREFIX = 's:';

/**
 * Signed double-submit CSRF tokens (csrf-csrf). A token is bound to the
 * session it was issued for (or to "signed out" before sign-in), so a new
 * session needs a new token; after its session ended it passes only while
 * the browser still sends that session's cookie (see isAllowed).
 */
@Injectable()
export class CsrfService {
  private readonly csrf: DoubleCsrfUtilities;
  /** Checks a token against the session the request's cookie names, for a session that ended after the token was issued. */
  private readonly endedSessionCsrf: DoubleCsrfUtilities;
  private readonly allowedOrigins: Set<string>;
  private readonly sessionSecrets: string[];
  private readonly sessionCookieName: string;

  constructor(config: ConfigService<AppConfiguration, true>) {
    const session = config.get('session', { infer: true });
    // Own keys derived from the session secrets: one secret, one purpose.
    const secrets = session.secrets.map((secret: string) => createHmac('sha256', secret).update('csrf').digest('hex'));
    this.allowedOrigins = new Set(config.get('http', { infer: true }).corsOrigins);
    this.sessionSecrets = session.secrets;
    this.sessionCookieName = session.cookieName;
    const options = {
      getSecret: () => secrets,
      cookieName: hostOnlyCookieName('csrf', session.cookieSecure),
      cookieOptions: { sameSite: 'strict' as const, path: '/', secure: session.cookieSecure, httpOnly: true },
      getCsrfTokenFromRequest: (req: Request) => {
        const fromHeader = req.headers[CSRF_HEADER];
        if (typeof fromHeader === 'string') return fromHeader;
        const fromForm = (req.body as Record<string, unknown> | undefined)?.[CSRF_FORM_FIELD];
        return typeof fromForm === 'string' ? fromForm : undefined;
      },
    };
    this.csrf = doubleCsrf({
      ...options,
      // The token is an HMAC over this: bound to the session, revealing nothing of its id.
      getSessionIdentifier: (req) => (SESSION_BOUND_STATES.has(req.auth?.state) ? req.sessionID : ''),
    });
    this.endedSessionCsrf = doubleCsrf({ ...options, getSessionIdentifier: (req) => this.sessionNamedByCookie(req) });
  }

  /** A token for the caller's current session, set in its cookie too. */
  token(req: Request, res: Response): string {
    return this.csrf.generateCsrfToken(req, res);
  }

  /**
   * True for safe methods; otherwise the origin must be ours or allowed, and the token must match. A token
   * issued for a session that has ended since (the page was loaded, then another device signed it out) still
   * matches while the browser holds that session's signed cookie: the sign-in that first meets the ended
   * session works (its answer clears the cookie, so a later attempt needs a new token).
   */
  isAllowed(req: Request): boolean {
    if (SAFE_METHODS.has(req.method)) return true;
    if (!this.originAllowed(req)) return false;
    return this.csrf.validateRequest(req) || (ENDED_STATES.has(req.auth?.state) && this.endedSessionCsrf.validateRequest(req));
  }

  /** The session token inside the request's signed session cookie; '' when there is none or its signature fails. */
  private sessionNamedByCookie(req: Request): string {
    const value: unknown = req.cookies?.[this.sessionCookieName];
    if (typeof value !== 'string' || !value.startsWith(SIGNED_PREFIX)) return '';
    for (const secret of this.sessionSecrets) {
      const token = unsign(value.slice(SIGNED_PREFIX.length), secret);
      if (token !== false) return token;
    }
    return '';
  }

  private originAllowed(req: Request): boolean {
    const origin = req.get('origin');
    if (origin === undefined) return req.get('sec-fetch-site') !== 'cross-site';
    return origin === `${req.protocol}://${req.get('host')}` || this.allowedOrigins.has(origin);
  }
}
