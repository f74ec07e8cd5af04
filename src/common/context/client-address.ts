import { Logger } from '@nestjs/common';
import type { Request } from 'express';
import { isIP } from 'node:net';
import proxyAddr from 'proxy-addr';

/** How much of a bad entry the warning quotes: X-Forwarded-For can carry kilobytes of anything. */
const QUOTED_ENTRY_LENGTH = 64;

/**
 * An address a proxy can have seen a client connect from: an IP (IPv4-mapped
 * IPv6 included). Not one with an IPv6 zone (`fe80::1%eth0`): the zone names an
 * interface of the machine that wrote it, and any text after `%` would turn one
 * address into as many lockout keys as a client likes.
 */
export function isForwardedAddress(entry: string): boolean {
  return isIP(entry) !== 0 && !entry.includes('%');
}

/**
 * The client's address as every consumer gets it (lockout keys, events,
 * sessions): Express's `req.ip` (proxy-addr under TRUST_PROXY), except that an
 * X-Forwarded-For entry that is not an address never becomes the client.
 * proxy-addr returns such an entry as it is, so a client could choose its
 * lockout key and what events and analytics show.
 *
 * Walking the chain from the socket out as proxy-addr does, the first entry
 * that is not an address ends it, and the client is the hop before it: the
 * proxy that wrote the bad entry, the last address a trusted hop vouched for
 * (the socket's, with one proxy). Not the entries beyond it, which only that
 * hop's word would support; not always the socket, which behind several proxies
 * would put every such request of every edge on one key. Only requests whose
 * chain broke at the same proxy share its key.
 *
 * The operator hears of it once per process (one per app), not once per
 * request: a flood must not flood the log.
 */
export class ClientAddresses {
  private readonly logger = new Logger(ClientAddresses.name);
  private warned = false;

  of(req: Request): string {
    const chain = proxyAddr.all(req, req.app.get('trust proxy fn') as (address: string, hop: number) => boolean);
    const broken = chain.findIndex((entry, hop) => hop > 0 && !isForwardedAddress(entry));
    if (broken === -1) return chain[chain.length - 1] ?? '';
    const proxy = chain[broken - 1] ?? '';
    this.warnOnce(chain[broken], proxy);
    return proxy;
  }

  private warnOnce(entry: string, proxy: string): void {
    if (this.warned) return;
    this.warned = true;
    this.logger.warn(
      `An X-Forwarded-For entry from the trusted hop ${proxy} is not an IP address ` +
        `(${JSON.stringify(entry.slice(0, QUOTED_ENTRY_LENGTH))}${entry.length > QUOTED_ENTRY_LENGTH ? '…' : ''}): such ` +
        'requests are taken to come from that hop. Check what that proxy writes into X-Forwarded-For, and that ' +
        'TRUST_PROXY names no more hops than there are proxies. Logged once.',
    );
  }
}
