/** Injection token of the express-session store (a HashedMongoStore). */
export const SESSION_STORE = Symbol('SESSION_STORE');
export const SESSION_COLLECTION = 'sessions';
/** Session tokens carry 256 random bits. */
export const SESSION_TOKEN_BYTES = 32;
