import type { RequestHandler } from 'express';
import session from 'express-session';
import { randomBytes } from 'node:crypto';
import { hasDuplicateCookie } from '../common/http/duplicate-cookie';
import type { SessionConfig } from '../config/configuration';
import { HashedMongoStore } from '../sessions/hashed-mongo-store';
import { SESSION_TOKEN_BYTES } from '../sessions/session.constants';
import type { SessionHttpAdapter } from './session-http.adapter';

/** Methods that never start a session (sign-in is a POST). */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * express-session on the hashed connect-mongo store; saves only what sign-in
 * created. When the store fails on a POST, the request goes on with the
 * failure kept (`req.sessionLoadError`): a sign-out route (@SignsOut) runs
 * with the session unverified, so the cookie is still cleared, and
 * SessionGuard fails every other route with the store's error (SYS_9002).
 * A safe request without a session cookie has no session to load or start,
 * so it skips express-session (which would otherwise make an id and an empty
 * session for every anonymous page, probe and asset).
 *
 * A request with two session cookies skips it too: express-session would take
 * the first, and browsers send a cookie with a longer path first, so one
 * planted from a sibling subdomain (`Path=/api`) would choose the session.
 * Neither is read from the store: SessionStateMiddleware finds a cookie but no
 * session (AUTH_1003, cookie cleared), and SecureTransportGuard refuses
 * sign-in, whose new cookie would be shadowed the same way.
 */
export function createExpressSession(store: HashedMongoStore, config: SessionConfig, http: SessionHttpAdapter): RequestHandler {
  const handler = session({
    store,
    name: config.cookieName,
    secret: config.secrets,
    genid: () => randomBytes(SESSION_TOKEN_BYTES).toString('base64url'),
    cookie: http.cookieOptions,
    resave: false,
    saveUninitialized: false,
    rolling: false,
    // SessionsService deletes ended sessions itself, once; express-session must not delete again.
    unset: 'keep',
  });
  return (req, res, next) => {
    if (SAFE_METHODS.has(req.method) && req.cookies?.[config.cookieName] === undefined) return next();
    if (hasDuplicateCookie(req.headers.cookie, config.cookieName)) {
      req.sessionCookieConflict = true;
      return next();
    }
    handler(req, res, (error?: unknown) => {
      // Sign-out is a POST; which route it is, the router knows (@SignsOut).
      if (error && req.method === 'POST' && req.sessionID) {
        req.sessionLoadError = error;
        return next();
      }
      next(error);
    });
  };
}
