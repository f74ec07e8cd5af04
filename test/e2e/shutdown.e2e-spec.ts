import { once } from 'node:events';
import { connect, Socket } from 'node:net';
import { sleep } from '../helpers/agents';
import { AppProcess, startAppProcess, startTimeouts } from '../helpers/app-process';
import { databaseUri, TEST_SESSION_SECRET, uniqueDatabaseName } from '../helpers/test-app';

const BODY = JSON.stringify({ email: 'someone@example.test', password: 'a password' });
const LET_THE_SERVER_READ_MS = 300;

/** A sign-in whose body is only half sent: a request in flight for as long as the test likes. */
async function startSlowRequest(app: AppProcess): Promise<{ socket: Socket; answer: () => string; finish: () => void }> {
  const socket = connect(Number(new URL(app.url).port), '127.0.0.1');
  await once(socket, 'connect');
  let answer = '';
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
  socket.on('error', () => undefined);
  socket.write(
    `POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${BODY.length}\r\n\r\n` +
      BODY.slice(0, 5),
  );
  await sleep(LET_THE_SERVER_READ_MS);
  return { socket, answer: () => answer, finish: () => socket.write(BODY.slice(5)) };
}

function lineIndex(output: string, text: string): number {
  return output.split('\n').findIndex((line) => line.includes(text));
}

describe('graceful shutdown on SIGTERM', () => {
  const env = (drainSeconds: string) => ({
    MONGODB_URI: databaseUri(uniqueDatabaseName('shutdown')),
    SESSION_SECRET: TEST_SESSION_SECRET,
    LOG_LEVEL: 'info',
    SHUTDOWN_DRAIN_SECONDS: drainSeconds,
  });

  it(
    'reports not ready at once, answers the request in flight, then closes MongoDB and exits',
    async () => {
      const app = await startAppProcess(env('10'));
      const exited = once(app.process, 'exit');
      const slow = await startSlowRequest(app);
      const signalled = Date.now();
      app.process.kill('SIGTERM');
      await sleep(LET_THE_SERVER_READ_MS);

      const ready = await fetch(`${app.url}/health/ready`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { error: { code: string } }).error.code).toBe('SYS_9002');

      slow.finish();
      await once(slow.socket, 'close');
      // A real answer (the sign-in has no CSRF token), not a cut connection.
      expect(slow.answer()).toMatch(/^HTTP\/1\.1 403 /);
      await exited;
      expect(Date.now() - signalled).toBeLessThan(5_000);

      const output = app.output();
      const draining = lineIndex(output, 'Shutting down: not ready any more');
      const stoppedListening = lineIndex(output, 'Stopped listening; closing the app and its MongoDB client');
      const shutDown = lineIndex(output, '"Shut down"');
      expect(draining).toBeGreaterThanOrEqual(0);
      expect(stoppedListening).toBeGreaterThan(draining);
      expect(shutDown).toBeGreaterThan(stoppedListening);
    },
    startTimeouts(1),
  );

  it(
    'cuts what is still in flight once the drain time is over, and exits',
    async () => {
      const app = await startAppProcess(env('1'));
      const exited = once(app.process, 'exit');
      const slow = await startSlowRequest(app);
      const signalled = Date.now();
      app.process.kill('SIGTERM');
      await once(slow.socket, 'close');
      await exited;
      const took = Date.now() - signalled;
      expect(took).toBeGreaterThanOrEqual(900);
      expect(took).toBeLessThan(4_000);
      expect(app.output()).toContain('Drain time over with 1 request(s) still in flight');
    },
    startTimeouts(1),
  );
});
