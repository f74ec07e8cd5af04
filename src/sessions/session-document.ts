import type { Cookie, SessionData } from 'express-session';

/** What express-session keeps of a session: our fields plus its cookie settings. */
export type StoredSession = SessionData & { cookie: Cookie };

/** A document of the `sessions` collection. `_id` is the SHA-256 of the cookie token, never the token. */
export interface SessionDocument {
  _id: string;
  /** The TTL field: the first deadline plus a retention (see SessionExpiryPolicy.storageExpiry). */
  expires: Date;
  session: StoredSession;
}
