import { csrfToken, newAgent, sentCookie, setCookie, signIn, sleep } from '../helpers/agents';
import { connectionOf, useTestApp } from '../helpers/test-app';
import { createUser, TestUser } from '../helpers/users';

// 3 s of inactivity, 7.2 s absolute: short windows through configuration, as an operator would set them.
const IDLE_MS = 3_000;
const STEP_MS = 1_000;

describe('session expiry (inactivity 3 s, absolute 7.2 s)', () => {
  let user: TestUser;

  const ctx = useTestApp({
    db: 'expiry',
    env: { SESSION_INACTIVITY_MINUTES: '0.05', SESSION_EXPIRE_MINUTES: '0.12' },
  });
  beforeAll(async () => {
    user = await createUser(ctx.app);
  });

  it('ends an idle session with AUTH_1002 reason inactivity, clears the cookie, and never revives it', async () => {
    const agent = await signIn(ctx.app, user);
    const cookie = sentCookie(await agent.get('/api/auth/me').expect(200), 'session_token');
    await sleep(IDLE_MS + 500);

    const expired = await agent.get('/api/auth/me').expect(401);
    expect(expired.body.error).toMatchObject({ code: 'AUTH_1002', details: { reason: 'inactivity' } });
    expect(setCookie(expired.headers, 'session_token')).toMatch(/Expires=Thu, 01 Jan 1970/);

    await agent.get('/api/auth/me').expect(401); // the agent dropped the cookie: AUTH_1004
    const replay = await newAgent(ctx.app).get('/api/auth/me').set('Cookie', cookie).expect(401);
    expect(replay.body.error.code).toBe('AUTH_1003');
    expect(await connectionOf(ctx.app).collection('sessions').countDocuments({ 'session.userId': user.id })).toBe(0);
  });

  it('rolls the idle deadline forward while the user is active', async () => {
    const agent = await signIn(ctx.app, user);
    for (let elapsed = 0; elapsed < IDLE_MS * 1.7; elapsed += STEP_MS) {
      await sleep(STEP_MS);
      await agent.get('/api/auth/me').expect(200);
    }
    const { body } = await agent.get('/api/auth/session').expect(200);
    expect(Date.parse(body.idleExpiresAt) - Date.parse(body.createdAt)).toBeGreaterThan(IDLE_MS * 1.5);
  });

  it('does not count 4xx responses or the status endpoint as activity', async () => {
    const agent = await signIn(ctx.app, user);
    const token = await csrfToken(agent);
    await sleep(100); // the token request counted as activity; let its write land before the baseline
    const { body: initial } = await agent.get('/api/auth/session').expect(200);
    for (let elapsed = STEP_MS; elapsed < IDLE_MS; elapsed += STEP_MS) {
      await sleep(STEP_MS);
      await agent.post('/api/auth/login').set('X-CSRF-Token', token).send({ email: 1 }).expect(400);
      await agent.get('/api/nope').expect(404);
      const { body: status } = await agent.get('/api/auth/session').expect(200);
      expect(status.idleExpiresAt).toBe(initial.idleExpiresAt);
    }
    await sleep(STEP_MS + 500);
    const expired = await agent.get('/api/auth/me').expect(401);
    expect(expired.body.error.details).toEqual({ reason: 'inactivity' });
  });

  it('ends the session at the absolute lifetime despite constant activity', async () => {
    const agent = await signIn(ctx.app, user);
    const started = Date.now();
    let response = await agent.get('/api/auth/me');
    while (response.status === 200 && Date.now() - started < 10_000) {
      await sleep(STEP_MS);
      response = await agent.get('/api/auth/me');
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(7_000);
    expect(response.body.error).toMatchObject({ code: 'AUTH_1002', details: { reason: 'absolute' } });
  });

  it('sends an expired page visit once to the login page with the inactivity message', async () => {
    const agent = await signIn(ctx.app, user);
    await sleep(IDLE_MS + 500);
    const redirect = await agent.get('/dashboard').expect(303);
    expect(redirect.headers.location).toBe('/login?next=%2Fdashboard&expired=inactivity');
    const page = await agent.get(redirect.headers.location).expect(200);
    expect(page.text).toContain('Your session has expired due to inactivity. Please log in again.');
  });

  it('lets "stay signed in" extend the session without other activity', async () => {
    const agent = await signIn(ctx.app, user);
    const token = await csrfToken(agent);
    for (let elapsed = 0; elapsed < IDLE_MS * 1.5; elapsed += STEP_MS) {
      await sleep(STEP_MS);
      await agent.post('/api/auth/session/refresh').set('X-CSRF-Token', token).expect(200);
    }
    await agent.get('/api/auth/session').expect(200);
  });
});
