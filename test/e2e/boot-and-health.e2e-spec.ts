import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { newAgent } from '../helpers/agents';
import { startTimeouts } from '../helpers/app-process';
import { databaseUri, TEST_SESSION_SECRET, uniqueDatabaseName, useTestApp } from '../helpers/test-app';
import { freePort } from '../../src/database/ports';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');

describe('boot and health', () => {
  it(
    'refuses to start on bad configuration, one line per bad variable, before listening',
    async () => {
      const failure = await run(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
        cwd: ROOT,
        env: { PATH: process.env.PATH, PORT: 'http', SESSION_INACTIVITY_MINUTES: '0', NODE_ENV: 'production' },
      }).then(
        () => undefined,
        (error: { code: number; stderr: string }) => error,
      );
      expect(failure?.code).toBe(1);
      const lines = failure!.stderr.trim().split('\n');
      expect(lines.map((line) => line.replace('Invalid configuration: ', '').split(':')[0]).sort()).toEqual([
        'MONGODB_URI',
        'PORT',
        'PUBLIC_URL',
        'SESSION_INACTIVITY_MINUTES',
        'SESSION_SECRET',
      ]);
    },
    startTimeouts(1),
  );

  it(
    'says in one line, without a stack trace, when its port is taken, and exits 1',
    async () => {
      const port = await freePort();
      const taken = createServer();
      await new Promise<void>((resolve) => taken.listen(port, resolve));
      try {
        const failure = await run(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
          cwd: ROOT,
          env: {
            PATH: process.env.PATH,
            NODE_ENV: 'test',
            LOG_LEVEL: 'warn',
            PORT: String(port),
            MONGODB_URI: databaseUri(uniqueDatabaseName('port_taken')),
            SESSION_SECRET: TEST_SESSION_SECRET,
          },
        }).then(
          () => undefined,
          (error: { code: number; stderr: string }) => error,
        );
        expect(failure?.code).toBe(1);
        expect(failure!.stderr.trim()).toBe(
          `Cannot listen on port ${port}: another process is listening on it; stop that one or set PORT to a free port`,
        );
      } finally {
        taken.close();
      }
    },
    startTimeouts(1),
  );

  describe('probes', () => {
    const ctx = useTestApp({ db: 'health' });

    it('answers live and ready while MongoDB is up', async () => {
      expect((await newAgent(ctx.app).get('/health/live').expect(200)).body).toEqual({ status: 'ok' });
      expect((await newAgent(ctx.app).get('/health/ready').expect(200)).body).toEqual({ status: 'ok' });
    });
  });
});
