import type { NestExpressApplication } from '@nestjs/platform-express';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DEVELOPMENT_ADMIN_EMAIL } from '../../src/users/admin-bootstrap.service';
import { UsersService } from '../../src/users/users.service';
import { signIn } from '../helpers/agents';
import { startTimeouts } from '../helpers/app-process';
import { createTestApp, databaseUri, destroyTestApp, uniqueDatabaseName } from '../helpers/test-app';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');

describe('first-start users', () => {
  let app: NestExpressApplication | undefined;
  afterEach(async () => {
    await destroyTestApp(app);
    app = undefined;
  });

  it('creates the configured admin from ADMIN_EMAIL and ADMIN_PASSWORD, who can sign in', async () => {
    app = await createTestApp({
      db: uniqueDatabaseName('admin_env'),
      env: { ADMIN_EMAIL: 'Root@Example.test', ADMIN_PASSWORD: 'a long admin passphrase' },
    });
    const agent = await signIn(app, { email: 'root@example.test', password: 'a long admin passphrase' });
    expect((await agent.get('/api/auth/me').expect(200)).body.user).toMatchObject({ role: 'admin' });
    expect(await app.get(UsersService).emailExists(DEVELOPMENT_ADMIN_EMAIL)).toBe(false);
  });

  it('creates admin@localhost outside production when no admin is configured', async () => {
    app = await createTestApp({ db: uniqueDatabaseName('admin_dev') });
    const admin = await app.get(UsersService).findByEmailWithPasswordHash(DEVELOPMENT_ADMIN_EMAIL);
    expect(admin).toMatchObject({ role: 'admin', disabled: false });
    expect(admin!.passwordHash).toMatch(/^\$argon2id\$/);
  });

  describe('npm run user:create', () => {
    const db = uniqueDatabaseName('cli');
    const cli = (...args: string[]) =>
      run(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/users/cli/create-user.cli.ts', ...args], {
        cwd: ROOT,
        env: { PATH: process.env.PATH, MONGODB_URI: databaseUri(db), LOG_LEVEL: 'silent' },
      }).then(
        ({ stdout }) => ({ code: 0, stdout, stderr: '' }),
        (error: { code: number; stdout: string; stderr: string }) => error,
      );

    afterAll(async () => destroyTestApp(await createTestApp({ db })));

    it(
      'creates an admin that can sign in',
      async () => {
        const result = await cli('--email', 'ops@example.test', '--password', 'correct horse battery', '--role', 'admin');
        expect(result).toMatchObject({ code: 0, stdout: expect.stringContaining('Created admin ops@example.test') });
      },
      startTimeouts(1),
    );

    it(
      'refuses weak or bad input with a clear message and exit code 1',
      async () => {
        expect(await cli('--email', 'ops2@example.test', '--password', 'short')).toMatchObject({
          code: 1,
          stderr: '--password must be at least 12 characters\n',
        });
        expect(await cli('--email', 'not-an-email', '--password', 'correct horse battery')).toMatchObject({ code: 1 });
        expect(await cli('--email', 'ops3@example.test', '--password', 'correct horse battery', '--role', 'root')).toMatchObject({
          code: 1,
          stderr: expect.stringContaining('--role must be one of: user, admin'),
        });
        expect(await cli('--email', 'ops@example.test', '--password', 'correct horse battery')).toMatchObject({
          code: 1,
          stderr: '--email is already registered\n',
        });
      },
      startTimeouts(4),
    );
  });
});
