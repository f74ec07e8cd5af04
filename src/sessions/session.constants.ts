/** Injection token of the express-session store (a HashedMongoStore). */
export const SESSION_STORE = Symbol('SESSION_STORE');
export const SESSION_COLLECTION = 'sessions';
/** Session tokens carry 256 random bits. */
export const SESSION_TOKEN_BYTES = 32;

/** How long this instance reuses a session it read; another instance may serve an ended session this long at most. */
export const SESSION_READ_CACHE_MS = 1_000;
/** Sessions read in the last second that one instance keeps at most. */
export const SESSION_READ_CACHE_ENTRIES = 10_000;
/** Sessions whose last activity write one instance remembers at most (so a burst writes once). */
export const ACTIVITY_WRITES_REMEMBERED = 10_000;
