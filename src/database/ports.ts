import { randomInt } from 'node:crypto';
import { createServer, Socket } from 'node:net';

const POLL_INTERVAL_MS = 100;
/**
 * Ports handed out lie below the kernel's ephemeral range (Linux 32768-60999;
 * macOS and Windows from 49152). A port found with listen(0) is free again the
 * moment it is checked, and before its user binds it any outgoing connection or
 * other listen(0) may take it: in a test run every supertest request listens on
 * one, so a process polling its own new port could be answered by another app.
 */
const FIRST_PORT = 20_000;
const LAST_PORT = 32_767;
const ATTEMPTS = 100;

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A TCP port on 127.0.0.1 that was free a moment ago and that no listen(0) or outgoing connection will take. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const port = randomInt(FIRST_PORT, LAST_PORT + 1);
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port on 127.0.0.1 from ${FIRST_PORT} to ${LAST_PORT} after ${ATTEMPTS} tries`);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.connect(port, '127.0.0.1');
  });
}

/** Resolves once 127.0.0.1:port accepts connections; rejects on timeout or when `gaveUp()` says so. */
export async function waitForPort(port: number, timeoutMs: number, gaveUp: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (gaveUp()) throw new Error('the process exited');
    if (await canConnect(port)) return;
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
  throw new Error(`port ${port} not open after ${timeoutMs} ms`);
}
