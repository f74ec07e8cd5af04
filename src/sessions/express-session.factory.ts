import type { RequestHandler } from 'express';
import session from 'express-session';
import { randomBytes } from 'node:crypto';
import type { SessionConfig } from '../config/configuration';
import { HashedMongoStore } from './hashed-mongo-store';
import { SESSION_TOKEN_BYTES } from './session.constants';
import type { SessionsService } from './sessions.service';

/** The sign-out routes: the only ones that go on when the session cannot be loaded. */
const SIGN_OUT_PATHS = new Set(['/logout', '/api/auth/logout']);

/**
 * express-session on the hashed connect-mongo store; saves only what sign-in
 * created. When the store fails, requests get SYS_9002, except sign-out: the
 * cookie must still be cleared, so it goes on with the session unverified.
 */
export function createExpressSession(store: HashedMongoStore, config: SessionConfig, sessions: SessionsService): RequestHandler {
  const handler = session({
    store,
    name: config.cookieName,
    secret: config.secrets,
    genid: () => randomBytes(SESSION_TOKEN_BYTES).toString('base64url'),
    cookie: sessions.cookieOptions,
    resave: false,
    saveUninitialized: false,
    rolling: false,
    // SessionsService deletes ended sessions itself, once; express-session must not delete again.
    unset: 'keep',
  });
  return (req, res, next) =>
    handler(req, res, (error?: unknown) => {
      if (error && req.method === 'POST' && SIGN_OUT_PATHS.has(req.path) && req.sessionID) {
        req.sessionUnverified = true;
        return next();
      }
      next(error);
    });
}
