import request from 'supertest';
import { AppProcess, startAppProcess, startTimeouts } from '../helpers/app-process';
import { setCookie } from '../helpers/agents';
import { databaseUri, uniqueDatabaseName } from '../helpers/test-app';

const ADMIN = { email: 'restart@example.test', password: 'a long kept-secret passphrase' };

/** `name=value` pairs of the cookies a response set. */
function cookiesOf(headers: Record<string, unknown>, ...names: string[]): string {
  return names.map((name) => setCookie(headers, name)!.split(';')[0]).join('; ');
}

describe('restarting the development server without SESSION_SECRET', () => {
  const env = {
    MONGODB_URI: databaseUri(uniqueDatabaseName('dev_restart')),
    NODE_ENV: 'development',
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
  };
  let app: AppProcess | undefined;
  afterEach(() => app?.stop());

  it(
    'keeps everyone signed in: the generated secret is kept in .embedded-db',
    async () => {
      app = await startAppProcess(env);
      const csrf = await request(app.url).get('/api/auth/csrf');
      const login = await request(app.url)
        .post('/api/auth/login')
        .set('Cookie', cookiesOf(csrf.headers, 'csrf'))
        .set('X-CSRF-Token', csrf.body.token as string)
        .send(ADMIN)
        .expect(200);
      const session = cookiesOf(login.headers, 'session_token');
      await app.stop();

      app = await startAppProcess(env);
      await request(app.url).get('/api/auth/me').set('Cookie', session).expect(200);
    },
    startTimeouts(2),
  );
});
