import { AsyncLocalStorage } from 'node:async_hooks';

interface RequestContextStore {
  correlationId: string;
  startedAt: bigint;
  userId?: string;
}

const storage = new AsyncLocalStorage<RequestContextStore>();

/** Correlation id, user id and elapsed time of the current request, readable anywhere. */
export const RequestContext = {
  run<T>(correlationId: string, callback: () => T): T {
    return storage.run({ correlationId, startedAt: process.hrtime.bigint() }, callback);
  },

  correlationId(): string | undefined {
    return storage.getStore()?.correlationId;
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
    return store ? Number(process.hrtime.bigint() - store.startedAt) / 1e6 : undefined;
  },
};
