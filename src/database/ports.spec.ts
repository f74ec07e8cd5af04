import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { freePort } from './ports';

/** The kernel's range for listen(0) and outgoing connections; Linux's default where it cannot be read. */
function ephemeralRange(): [number, number] {
  try {
    const [first, last] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return [first, last];
  } catch {
    return [32_768, 60_999];
  }
}

function listenOn(port: number): Promise<() => Promise<void>> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(() => new Promise((done) => server.close(() => done()))));
  });
}

describe('freePort', () => {
  it('hands out ports that listen(0) and outgoing connections are never given, and that can be listened on', async () => {
    const [first, last] = ephemeralRange();
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    for (const port of ports) expect(port < first || port > last).toBe(true);
    expect(new Set(ports).size).toBeGreaterThan(1);
    const close = await listenOn(ports[0]);
    await close();
  });
});
