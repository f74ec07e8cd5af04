/** Injection token of the express-session store (a HashedMongoStore). */
export const SESSION_STORE = Symbol('SESSION_STORE');
export const SESSION_COLLECTION = 'sessions';
/** How often expired session documents are deleted where the database has no TTL indexes. */
export const SESSION_SWEEP_INTERVAL_MS = 60_000;
/** Session tokens carry 256 random bits. */
export const SESSION_TOKEN_BYTES = 32;
