import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';

/** Long User-Agent headers are cut: what is kept of a client is a record, not a dump. */
export const MAX_USER_AGENT_LENGTH = 512;
/** The longest address text there is (IPv6 with an embedded IPv4 and a zone id) fits; anything longer is not an address. */
export const MAX_IP_LENGTH = 64;

/** A user agent as it may be stored (events, sessions). */
export function storedUserAgent(userAgent: string): string {
  return userAgent.slice(0, MAX_USER_AGENT_LENGTH);
}

/** A client address as it may be stored (events, sessions, lockout keys). */
export function storedIp(ip: string): string {
  return ip.slice(0, MAX_IP_LENGTH);
}

/** Who is on the other end of the request, as services need it (events, devices, lockout). */
export interface ClientFacts {
  correlationId: string;
  /** The client's address as Express resolves it under TRUST_PROXY, never an X-Forwarded-For entry that is not an IP (ClientAddresses). */
  ip: string;
  userAgent: string;
}

interface RequestContextStore {
  /** As given: its fields may be getters, read only when a service asks (most requests never do); `client()` caps them. */
  client: ClientFacts;
  /** performance.now() when the request came in. */
  startedAt: number;
  userId?: string;
}

const storage = new AsyncLocalStorage<RequestContextStore>();

/** Nothing is known outside a request (a CLI command, a background job). */
const NO_CLIENT: ClientFacts = { correlationId: '', ip: '', userAgent: '' };

/**
 * The current request's facts, readable anywhere during it: correlation id,
 * client address and user agent, user id, elapsed time. Services read these
 * instead of taking Express's `req`, so they run the same outside HTTP.
 */
export const RequestContext = {
  run<T>(client: ClientFacts, callback: () => T): T {
    return storage.run({ client, startedAt: performance.now() }, callback);
  },
  correlationId(): string | undefined {
    return storage.getStore()?.client.correlationId;
  },
  client(): ClientFacts {
    const store = storage.getStore();
    if (!store) return NO_CLIENT;
    const { correlationId, ip, userAgent } = store.client;
    return { correlationId, ip: storedIp(ip), userAgent: storedUserAgent(userAgent) };
  },
  userId(): string | undefined {
    return storage.getStore()?.userId;
  },
  setUserId(userId: string | undefined): void {
    const store = storage.getStore();
    if (store) store.userId = userId;
  },
  /** Milliseconds since the request started, or undefined outside a request. */
  elapsedMs(): number | undefined {
    const store = storage.getStore();
    return store ? performance.now() - store.startedAt : undefined;
  },
};
