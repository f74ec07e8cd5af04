import { AddressInfo, connect } from 'node:net';
import request from 'supertest';
import { HashedMongoStore } from '../../src/sessions/hashed-mongo-store';
import { SESSION_STORE } from '../../src/sessions/session.constants';
import { sessionCookieName, setCookie } from '../helpers/agents';
import { formCsrfToken } from '../helpers/forms';
import { eventsOf } from '../helpers/steps';
import { connectionOf, useTestApp } from '../helpers/test-app';
import { createUser, TestUser } from '../helpers/users';

/** What the trusted proxy says of a TLS connection: the app sets Secure cookies on it. */
const HTTPS = { 'X-Forwarded-Proto': 'https' };
const PARALLEL = 24;
const CLEARED = /Expires=Thu, 01 Jan 1970/;

/** Two users' sessions side by side: a victim's and one an attacker holds and tries to slip in. */
interface Pair {
  victim: { user: TestUser; cookie: string };
  attacker: { user: TestUser; cookie: string };
}

const MODES = [
  { mode: 'with COOKIE_SECURE', env: { COOKIE_SECURE: 'true' }, name: '__Host-session_token', other: 'session_token' },
  { mode: 'without COOKIE_SECURE', env: { COOKIE_SECURE: 'false' }, name: 'session_token', other: '__Host-session_token' },
];

describe.each(MODES)('the session cookie $mode', ({ env, name, other }) => {
  let store: HashedMongoStore;
  let pair: Pair;

  const ctx = useTestApp({ db: 'session_cookie_prefix', env: { ...env, TRUST_PROXY: '1' } });
  beforeAll(async () => {
    store = ctx.app.get<HashedMongoStore>(SESSION_STORE);
  });
  // Fresh sessions for each test: what one test does to a session (or fails to) cannot make another pass.
  beforeEach(async () => {
    pair = {
      victim: await signedIn(await createUser(ctx.app)),
      attacker: await signedIn(await createUser(ctx.app)),
    };
  });
  afterEach(() => jest.restoreAllMocks());

  const server = () => request(ctx.app.getHttpServer());

  /** A CSRF token with its cookie, over HTTPS: Secure cookies are carried by hand, as a browser on https:// would. */
  async function csrf(cookie?: string) {
    const issued = server().get('/api/auth/csrf').set(HTTPS);
    if (cookie) issued.set('Cookie', cookie);
    const response = await issued.expect(200);
    const csrfCookie = (response.headers['set-cookie'] as unknown as string[]).find((line) => /^(__Host-)?csrf=/.test(line))!;
    return { token: response.body.token as string, cookie: csrfCookie.split(';')[0] };
  }

  async function jsonSignIn(user: TestUser, sessionCookies = '') {
    const { token, cookie } = await csrf(sessionCookies || undefined);
    return server()
      .post('/api/auth/login')
      .set(HTTPS)
      .set('Cookie', [cookie, sessionCookies].filter(Boolean).join('; '))
      .set('X-CSRF-Token', token)
      .send({ email: user.email, password: user.password });
  }

  async function signedIn(user: TestUser) {
    const response = await jsonSignIn(user);
    expect(response.status).toBe(200);
    return { user, cookie: setCookie(response.headers, name)!.split(';')[0] };
  }

  const me = (cookie: string) => server().get('/api/auth/me').set(HTTPS).set('Cookie', cookie);

  /** The Cookie headers a client could send with both sessions: either order, other cookies and padding between, a 6 KB header. */
  function bothSessions({ victim, attacker }: Pair): string[] {
    return [
      `${attacker.cookie}; ${victim.cookie}`,
      `${victim.cookie}; ${attacker.cookie}`,
      `theme=dark; ${attacker.cookie};lang=en;${victim.cookie}`,
      `${attacker.cookie};\t ${victim.cookie.replace('=', ' =')}`,
      `${attacker.cookie}; filler=${'x'.repeat(6_000)}; ${victim.cookie}`,
    ];
  }

  function expectRefusedAndCleared(response: request.Response) {
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('AUTH_1003');
    const cleared = setCookie(response.headers, name)!;
    expect(cleared).toMatch(CLEARED);
    const attributes = cleared.split(';').map((part) => part.trim().toLowerCase());
    expect(attributes).toContain('path=/');
    expect(attributes.some((attribute) => attribute.startsWith('domain='))).toBe(false);
    expect(attributes.includes('secure')).toBe(name.startsWith('__Host-'));
  }

  it(`is ${name}: HttpOnly, SameSite=Lax, Path=/, no Domain`, async () => {
    const response = await jsonSignIn(await createUser(ctx.app));
    expect(response.status).toBe(200);
    const attributes = setCookie(response.headers, name)!
      .split(';')
      .slice(1)
      .map((part) => part.trim().toLowerCase());
    expect(attributes).toEqual(expect.arrayContaining(['httponly', 'samesite=lax', 'path=/']));
    expect(attributes.some((attribute) => attribute.startsWith('domain='))).toBe(false);
    expect(attributes.includes('secure')).toBe(name.startsWith('__Host-'));
    expect(setCookie(response.headers, other)).toBeUndefined();
    expect((await me(pair.victim.cookie).expect(200)).body.user.id).toBe(pair.victim.user.id);
  });

  it('refuses two session cookies with AUTH_1003 in any order and clears the name, reading neither from the store', async () => {
    const reads = jest.spyOn(store, 'get');
    for (const cookies of bothSessions(pair)) expectRefusedAndCleared(await me(cookies));
    expect(reads).not.toHaveBeenCalled();
    // Neither session was taken for the request, nor ended by it.
    expect((await me(pair.victim.cookie).expect(200)).body.user.id).toBe(pair.victim.user.id);
    expect((await me(pair.attacker.cookie).expect(200)).body.user.id).toBe(pair.attacker.user.id);
  });

  it('counts the pairs of two Cookie header lines together (Node joins them)', async () => {
    const response = await rawGet('/api/auth/me', [`Cookie: ${pair.attacker.cookie}`, `Cookie: ${pair.victim.cookie}`]);
    expect(response).toMatch(/^HTTP\/1\.1 401 /);
    expect(response).toContain('"code":"AUTH_1003"');
    expect(response).toMatch(new RegExp(`^Set-Cookie: ${name}=;.*${CLEARED.source}`, 'm'));
  });

  /** A request written by hand: supertest (Node's client) would join two Cookie headers into one line itself. */
  async function rawGet(path: string, headerLines: string[]): Promise<string> {
    const http = ctx.app.getHttpServer();
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = http.address() as AddressInfo;
      const socket = connect(port, '127.0.0.1');
      socket.end(
        [`GET ${path} HTTP/1.1`, 'Host: localhost', 'X-Forwarded-Proto: https', 'Connection: close', ...headerLines, '', ''].join('\r\n'),
      );
      let answer = '';
      for await (const chunk of socket) answer += String(chunk);
      return answer;
    } finally {
      await new Promise((resolve) => http.close(resolve));
    }
  }

  it(`refuses a parallel burst of ${PARALLEL} requests with both sessions, every one`, async () => {
    const reads = jest.spyOn(store, 'get');
    const variants = bothSessions(pair);
    const responses = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => me(variants[i % variants.length])));
    for (const response of responses) expectRefusedAndCleared(response);
    expect(reads).not.toHaveBeenCalled();
  });

  it.each([
    ['an empty value', ''],
    ['a NUL', '%00'],
    ['a JSON-looking value', 'j:{"a":1}'],
    ['a forged signature', 's:forged.signature'],
    ['4 KB', 'a'.repeat(4_000)],
    ['a quoted value', '"s:x.y"'],
  ])('refuses a live session next to a second one holding %s', async (_label, value) => {
    expectRefusedAndCleared(await me(`${name}=${value}; ${pair.victim.cookie}`));
    expectRefusedAndCleared(await me(`${pair.victim.cookie}; ${name}=${value}`));
  });

  it(`takes ${other} and other spellings for other cookies: neither a session nor a conflict`, async () => {
    const value = (cookie: string) => cookie.slice(cookie.indexOf('=') + 1);
    const planted = [other, name.toLowerCase(), name.toUpperCase(), `${name}x`, ` x${name}`].filter((spelling) => spelling !== name);
    for (const spelling of planted) {
      const shadow = `${spelling}=${value(pair.attacker.cookie)}`;
      expect((await me(`${shadow}; ${pair.victim.cookie}`).expect(200)).body.user.id).toBe(pair.victim.user.id);
      expect((await me(shadow).expect(401)).body.error.code).toBe('AUTH_1004');
    }
  });

  it('refuses a sign-in that carries two session cookies (JSON and form) before checking the password', async () => {
    const user = await createUser(ctx.app);
    const both = `${pair.attacker.cookie}; ${pair.victim.cookie}`;
    expectRefusedAndCleared(await jsonSignIn(user, both));

    const page = await server().get('/login').set(HTTPS).set('Cookie', both).expect(200);
    expect(setCookie(page.headers, name)).toMatch(CLEARED);
    const csrfCookie = setCookie(page.headers, name.startsWith('__Host-') ? '__Host-csrf' : 'csrf')!.split(';')[0];
    const form = await server()
      .post('/login')
      .set(HTTPS)
      .set('Cookie', `${csrfCookie}; ${both}`)
      .type('form')
      .send({ email: user.email, password: user.password, _csrf: formCsrfToken(page.text) });
    expect(form.status).toBe(303);
    expect(form.headers.location).toBe('/login');
    expect(setCookie(form.headers, name)).toMatch(CLEARED);

    expect(await eventsOf(ctx.app, { userId: user.id })).toEqual([]);
    expect(await connectionOf(ctx.app).collection('sessions').countDocuments({ 'session.userId': user.id })).toBe(0);
  });

  it('sends a page with two session cookies to the sign-in form once, and shows the form itself', async () => {
    const both = `${pair.attacker.cookie}; ${pair.victim.cookie}`;
    const dashboard = await server().get('/dashboard').set(HTTPS).set('Cookie', both).expect(303);
    expect(dashboard.headers.location).toBe('/login?next=%2Fdashboard');
    expect(setCookie(dashboard.headers, name)).toMatch(CLEARED);
    const login = await server().get('/login').set(HTTPS).set('Cookie', both).expect(200);
    expect(login.text).toContain('name="password"');
  });

  it('signs out with two session cookies as with none: 204, the name cleared, neither session ended', async () => {
    const both = `${pair.victim.cookie}; ${pair.attacker.cookie}`;
    const { token, cookie } = await csrf(both);
    const response = await server().post('/api/auth/logout').set(HTTPS).set('Cookie', `${cookie}; ${both}`).set('X-CSRF-Token', token);
    expect(response.status).toBe(204);
    expect(setCookie(response.headers, name)).toMatch(CLEARED);
    await me(pair.victim.cookie).expect(200);
    await me(pair.attacker.cookie).expect(200);
  });

  it('names the cookie in the OpenAPI security scheme', async () => {
    const document = (await server().get('/api/docs-json').expect(200)).body;
    expect(document.components.securitySchemes.cookie).toMatchObject({ in: 'cookie', name });
    expect(sessionCookieName(ctx.app)).toBe(name);
  });
});
