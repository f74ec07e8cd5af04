import proxyAddr from 'proxy-addr';

/** What Express's `trust proxy` gets: nothing, a hop count, or the proxies' addresses. */
export type TrustProxy = false | number | string[];

export const TRUST_PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

const TRUST_EVERY_HOP =
  'true would trust every X-Forwarded-For entry, so any client could choose its own IP (lockout bypass, forged IPs ' +
  'in events and device lists); set the number of proxies in front of the app (e.g. 1) or their addresses ' +
  `(e.g. 10.0.0.0/8, or ${TRUST_PROXY_NAMES.join(', ')})`;

export class TrustProxyError extends Error {}

/**
 * `false` (default), a hop count (`1`), or a comma list of proxy addresses,
 * CIDRs and proxy-addr's names. `true` is refused: it lets clients pick their IP.
 */
export function parseTrustProxy(raw: string | undefined): TrustProxy {
  const value = raw?.trim() ?? '';
  if (value === '' || value === 'false' || value === '0') return false;
  if (value === 'true') throw new TrustProxyError(TRUST_EVERY_HOP);
  if (/^\d+$/.test(value)) return Number(value);
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (const entry of entries) {
    try {
      proxyAddr.compile(entry);
    } catch {
      throw new TrustProxyError(`"${entry}" is not a hop count, an IP address, a CIDR or one of ${TRUST_PROXY_NAMES.join(', ')}`);
    }
  }
  return entries;
}
