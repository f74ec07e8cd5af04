import { randomUUID } from 'node:crypto';

export const CORRELATION_ID_HEADER = 'X-Correlation-ID';
const ACCEPTED_CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's id when it is safe to echo and log, else a fresh UUID. */
export function resolveCorrelationId(incoming: string | string[] | undefined): string {
  return typeof incoming === 'string' && ACCEPTED_CORRELATION_ID.test(incoming) ? incoming : randomUUID();
}
