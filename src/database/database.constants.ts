/** How long a query waits for a reachable MongoDB before the request gets SYS_9002. */
export const SERVER_SELECTION_TIMEOUT_MS = 2_000;
/** How often the driver re-checks the server; bounds recovery time after an outage. */
export const HEARTBEAT_FREQUENCY_MS = 1_000;
