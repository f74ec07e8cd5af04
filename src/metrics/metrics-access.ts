import type { Request } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * Who may scrape: with METRICS_TOKEN, whoever sends it as a Bearer token;
 * without, only a client on this machine talking to us directly (a request
 * relayed by a local proxy carries X-Forwarded-For and is refused).
 */
export function mayScrapeMetrics(req: Request, token: string | undefined): boolean {
  if (token) {
    const header = req.get('authorization') ?? '';
    return header.startsWith('Bearer ') && sameSecret(header.slice('Bearer '.length), token);
  }
  return LOOPBACK.has(req.socket.remoteAddress ?? '') && req.get('x-forwarded-for') === undefined;
}
