import type { RequestHandler } from 'express';
import session from 'express-session';
import { randomBytes } from 'node:crypto';
import type { SessionConfig } from '../config/configuration';
import { HashedMongoStore } from './hashed-mongo-store';
import { SESSION_TOKEN_BYTES } from './session.constants';
import type { SessionsService } from './sessions.service';

/** express-session on the hashed connect-mongo store; saves only what sign-in created. */
export function createExpressSession(
  store: HashedMongoStore,
  config: SessionConfig,
  sessions: SessionsService,
): RequestHandler {
  return session({
    store,
    name: config.cookieName,
    secret: config.secrets,
    genid: () => randomBytes(SESSION_TOKEN_BYTES).toString('base64url'),
    cookie: sessions.cookieOptions,
    resave: false,
    saveUninitialized: false,
    rolling: false,
    unset: 'destroy',
  });
}
