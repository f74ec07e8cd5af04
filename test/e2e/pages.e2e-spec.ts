import { Agent, newAgent, setCookie, signIn } from '../helpers/agents';
import { formCsrfToken, submitLoginForm } from '../helpers/forms';
import { useTestApp } from '../helpers/test-app';
import { createUser, TestUser } from '../helpers/users';
import { watchCommands } from '../helpers/commands';
import { LOGIN_MESSAGES } from '../../src/auth/auth-pages.controller';

const NO_STORE = 'no-store, no-cache, must-revalidate, max-age=0';
const MAX_HOPS = 5;

/** Follows redirects like a browser and returns every hop, to prove there is no loop. */
async function follow(agent: Agent, path: string) {
  const hops: { status: number; location?: string }[] = [];
  let response = await agent.get(path);
  while (response.status >= 300 && response.status < 400 && hops.length < MAX_HOPS) {
    hops.push({ status: response.status, location: response.headers.location });
    response = await agent.get(response.headers.location);
  }
  return { hops, final: response };
}

describe('HTML pages', () => {
  let user: TestUser;

  const ctx = useTestApp({ db: 'pages' });
  beforeAll(async () => {
    user = await createUser(ctx.app, { name: 'Grace Hopper' });
  });

  it('sends / to the login page or the dashboard', async () => {
    expect((await newAgent(ctx.app).get('/').expect(303)).headers.location).toBe('/login');
    const agent = await signIn(ctx.app, user);
    expect((await agent.get('/').expect(303)).headers.location).toBe('/dashboard');
  });

  it('redirects a protected page once to /login?next=… and the login page does not redirect', async () => {
    const { hops, final } = await follow(newAgent(ctx.app), '/dashboard');
    expect(hops).toEqual([{ status: 303, location: '/login?next=%2Fdashboard' }]);
    expect(final.status).toBe(200);
    expect(final.text).toContain('name="next" value="/dashboard"');
  });

  it('shows the login form, not a redirect, for a tampered cookie: no loop', async () => {
    const agent = newAgent(ctx.app);
    agent.set('Cookie', 'session_token=s%3Aforged.signature');
    const { hops, final } = await follow(agent, '/dashboard');
    expect(hops).toHaveLength(1);
    expect(final.status).toBe(200);
    expect(final.text).toContain('<h1>Sign in</h1>');
  });

  it('signs in with the form and lands on the dashboard with the session facts', async () => {
    const agent = newAgent(ctx.app);
    const response = await submitLoginForm(agent, { email: user.email, password: user.password });
    expect(response.status).toBe(303);
    expect(response.headers.location).toBe('/dashboard');
    const dashboard = await agent.get('/dashboard').expect(200);
    expect(dashboard.text).toContain('Signed in as Grace Hopper');
    for (const field of ['createdAt', 'lastActivityAt', 'idleExpiresAt', 'absoluteExpiresAt']) {
      expect(dashboard.text).toMatch(new RegExp(`data-field="${field}" datetime="\\d{4}-\\d\\d-\\d\\dT`));
    }
    expect(dashboard.headers['cache-control']).toBe(NO_STORE);
  });

  it('shows the form again with 401, the message and the email kept on a failed sign-in', async () => {
    const response = await submitLoginForm(newAgent(ctx.app), { email: user.email, password: 'wrong password!' });
    expect(response.status).toBe(401);
    expect(response.text).toContain('Invalid email or password');
    expect(response.text).toContain(`value="${user.email}"`);
    expect(setCookie(response.headers, 'session_token')).toBeUndefined();
  });

  it('goes to a same-site next path after sign-in', async () => {
    const response = await submitLoginForm(newAgent(ctx.app), { email: user.email, password: user.password, next: '/dashboard?tab=1' });
    expect(response.headers.location).toBe('/dashboard?tab=1');
  });

  it.each(['//evil.example', 'https://evil.example', '/\\evil.example', 'javascript:alert(1)', '/login'])(
    'ignores next=%s and goes to the dashboard',
    async (next) => {
      const response = await submitLoginForm(newAgent(ctx.app), { email: user.email, password: user.password, next });
      expect(response.status).toBe(303);
      expect(response.headers.location).toBe('/dashboard');
    },
  );

  it('does not put an off-site next into the login form', async () => {
    const page = await newAgent(ctx.app).get('/login?next=%2F%2Fevil.example').expect(200);
    expect(page.text).not.toContain('evil.example');
  });

  it('logs out with the form: 303 to the logged-out message, cookie cleared, back button gets the login page', async () => {
    const agent = newAgent(ctx.app);
    await submitLoginForm(agent, { email: user.email, password: user.password });
    const dashboard = await agent.get('/dashboard').expect(200);
    const logout = await agent
      .post('/logout')
      .type('form')
      .send({ _csrf: formCsrfToken(dashboard.text) })
      .expect(303);
    expect(logout.headers.location).toBe('/login?loggedOut=1');
    expect(logout.headers['clear-site-data']).toBe('"cache", "storage"');
    expect(setCookie(logout.headers, 'session_token')).toMatch(/Expires=Thu, 01 Jan 1970/);
    const page = await agent.get('/login?loggedOut=1').expect(200);
    expect(page.text).toContain('You have been logged out.');
    expect((await agent.get('/dashboard').expect(303)).headers.location).toBe('/login?next=%2Fdashboard');
  });

  it.each([
    ['inactivity', 'Your session has expired due to inactivity. Please log in again.'],
    ['absolute', 'Your session has expired. Please log in again.'],
  ])('shows the %s expiry message', async (reason, message) => {
    const page = await newAgent(ctx.app).get(`/login?expired=${reason}`).expect(200);
    expect(page.text).toContain(message);
  });

  it('shows a login notice only for an exact value: none for a repeated, long, near-miss or inherited one', async () => {
    const noticeOf = async (query: string) => {
      const page = await newAgent(ctx.app).get(`/login?${query}`).expect(200);
      return /<p class="notice"[^>]*>([^<]*)<\/p>/.exec(page.text)?.[1];
    };
    expect(await noticeOf('loggedOut=password')).toBe(LOGIN_MESSAGES.passwordChanged);
    for (const query of [
      'loggedOut=1&loggedOut=password',
      `loggedOut=${'1'.repeat(4_000)}`,
      'loggedOut=PASSWORD',
      'loggedOut=%20password',
      'loggedOut=constructor',
      'expired=constructor',
      'expired=__proto__',
      'expired=loggedOut',
      'expired=inactivity&expired=absolute',
    ]) {
      expect([query, await noticeOf(query)]).toEqual([query, undefined]);
    }
  });

  it('sends a signed-in visitor from /login to the dashboard', async () => {
    const agent = await signIn(ctx.app, user);
    expect((await agent.get('/login').expect(303)).headers.location).toBe('/dashboard');
  });

  it('marks the login page and error pages no-store', async () => {
    for (const path of ['/login', '/no-such-page']) {
      const response = await newAgent(ctx.app).get(path);
      expect(response.headers['cache-control']).toBe(NO_STORE);
      expect(response.headers.pragma).toBe('no-cache');
      expect(response.headers.expires).toBe('0');
    }
  });

  it('renders unknown pages as an HTML error page with RES_3001 and no internals', async () => {
    const response = await newAgent(ctx.app).get('/no-such-page').expect(404);
    expect(response.headers['content-type']).toMatch(/text\/html/);
    expect(response.text).toContain('RES_3001');
    expect(response.text).toContain(response.headers['x-correlation-id']);
  });

  it('refuses a form post without its CSRF token with AUTH_1008 and keeps the session', async () => {
    const agent = await signIn(ctx.app, user);
    const forged = await agent.post('/logout').type('form').send({});
    expect(forged.status).toBe(403);
    expect(forged.text).toContain('AUTH_1008');
    await agent.get('/api/auth/me').expect(200);
  });

  it('serves the stylesheet without touching sessions', async () => {
    const response = await newAgent(ctx.app).get('/css/app.css').expect(200);
    expect(response.headers['content-type']).toMatch(/text\/css/);
    expect(setCookie(response.headers, 'session_token')).toBeUndefined();
  });

  it('serves a favicon from the static files, with no database work even for a signed-in browser', async () => {
    const agent = await signIn(ctx.app, user);
    const commands = watchCommands(ctx.app);
    const ico = await agent.get('/favicon.ico').expect(200);
    const svg = await agent.get('/favicon.svg').expect(200);
    commands.stop();
    expect(ico.headers['content-type']).toMatch(/image\/(x-icon|vnd\.microsoft\.icon)/);
    expect(svg.headers['content-type']).toMatch(/image\/svg\+xml/);
    expect(commands.seen()).toEqual([]);
    expect((await agent.get('/dashboard').expect(200)).text).toContain('<link rel="icon" href="/favicon.svg"');
  });
});
