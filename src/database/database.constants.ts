/**
 * How long an operation waits for a reachable MongoDB. A read may select twice
 * (retryable reads), so a request needing MongoDB answers SYS_9002 within ~2 s
 * of an outage instead of hanging on the 30 s default.
 */
export const SERVER_SELECTION_TIMEOUT_MS = 1_000;
/** How often the driver re-checks the server; bounds recovery time after an outage. */
export const HEARTBEAT_FREQUENCY_MS = 1_000;
/** MongoDB's error code for a write that would duplicate a unique key. */
export const DUPLICATE_KEY = 11000;
