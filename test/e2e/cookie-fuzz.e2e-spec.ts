import request from 'supertest';
import { signIn, sentCookie } from '../helpers/agents';
import { useTestApp } from '../helpers/test-app';
import { createUser } from '../helpers/users';

const COOKIE_NAMES = ['session_token', 'csrf', '__Host-csrf', 'device', '__Host-device', '__proto__', 'constructor'];

/** What a hostile sibling subdomain, a broken client or a proxy could put in a cookie. */
const COOKIE_VALUES = [
  'j:{"a":1}',
  'j:[]',
  'j:null',
  'j:1',
  'j:"s:abc.def"',
  'j:{"substr":1,"slice":1}',
  'j:{"__proto__":{"admin":true}}',
  'j:{',
  's:',
  's:.',
  's:abc.def',
  `s:${'a'.repeat(4000)}.sig`,
  '%',
  '%E0%A4%A',
  '%00',
  '%0d%0aSet-Cookie:%20x=y',
  '',
  ' ',
  '"quoted"',
  '==',
  'undefined',
  '__proto__',
  'é',
  'a'.repeat(4000),
];

const ROUTES: [method: 'get' | 'post', path: string][] = [
  ['get', '/health/live'],
  ['get', '/health/ready'],
  ['get', '/'],
  ['get', '/login'],
  ['get', '/dashboard'],
  ['get', '/account/sessions'],
  ['get', '/admin'],
  ['get', '/api/auth/csrf'],
  ['get', '/api/auth/me'],
  ['get', '/api/auth/session'],
  ['get', '/api/sessions'],
  ['post', '/api/auth/login'],
  ['post', '/api/auth/logout'],
  ['post', '/login'],
  ['post', '/logout'],
  ['get', '/no-such-page'],
];

/** Thousands of requests, a third of them sign-ins that verify a password: on a busy machine, many times Jest's default. */
const FUZZ_TIMEOUT_MS = 150_000;

describe('malformed cookies are never a 5xx', () => {
  const ctx = useTestApp({ db: 'cookie_fuzz' });

  it(
    `answers ${COOKIE_NAMES.length} names × ${COOKIE_VALUES.length} values × ${ROUTES.length} routes below 500`,
    async () => {
      const failures: string[] = [];
      for (const name of COOKIE_NAMES) {
        for (const value of COOKIE_VALUES) {
          const cookie = `${name}=${value}`;
          const responses = await Promise.all(
            ROUTES.map(([method, path]) => {
              const server = request(ctx.app.getHttpServer());
              const sent = method === 'post' ? server.post(path).send({ email: 'a@b.c', password: 'x' }) : server.get(path);
              return sent.set('Cookie', cookie);
            }),
          );
          responses.forEach((response, index) => {
            if (response.status >= 500) failures.push(`${response.status} ${ROUTES[index].join(' ')} with ${cookie.slice(0, 60)}`);
          });
        }
      }
      expect(failures).toEqual([]);
    },
    FUZZ_TIMEOUT_MS,
  );

  it('treats a JSON-looking session cookie as an invalid session: AUTH_1003 for the API, the plain form for /login', async () => {
    const server = ctx.app.getHttpServer();
    const me = await request(server).get('/api/auth/me').set('Cookie', 'session_token=j:{"a":1}').expect(401);
    expect(me.body.error.code).toBe('AUTH_1003');
    await request(server).get('/login').set('Cookie', 'session_token=j:{"a":1}').expect(200);
    await request(server).get('/health/live').set('Cookie', 'session_token=j:{"a":1}; csrf=j:[]').expect(200);
  });

  it('keeps a valid session valid next to a hostile cookie of another name', async () => {
    const agent = await signIn(ctx.app, await createUser(ctx.app));
    const session = sentCookie(await agent.get('/api/auth/me').expect(200), 'session_token');
    await request(ctx.app.getHttpServer()).get('/api/auth/me').set('Cookie', `csrf=j:{"x":1}; ${session}`).expect(200);
  });
});
