import { csrfToken, deleteJson, newAgent, sentCookie, sessionCookieName, signIn } from '../helpers/agents';
import { useTestApp } from '../helpers/test-app';
import { createUser, TestUser } from '../helpers/users';

describe('CSRF protection', () => {
  let user: TestUser;

  const ctx = useTestApp({ db: 'csrf' });
  beforeAll(async () => {
    user = await createUser(ctx.app);
  });

  it('refuses a forged JSON logout with AUTH_1008 and the session survives', async () => {
    const victim = await signIn(ctx.app, user);
    const forged = await victim.post('/api/auth/logout').expect(403);
    expect(forged.body.error.code).toBe('AUTH_1008');
    expect(forged.headers['set-cookie']).toBeUndefined();
    await victim.get('/api/auth/me').expect(200);
  });

  it('refuses sign-in without a token (login CSRF)', async () => {
    const response = await newAgent(ctx.app).post('/api/auth/login').send({ email: user.email, password: user.password }).expect(403);
    expect(response.body.error.code).toBe('AUTH_1008');
  });

  it('refuses a token without its cookie, and a token from another browser', async () => {
    const attacker = newAgent(ctx.app);
    const attackerToken = await csrfToken(attacker);
    const victim = await signIn(ctx.app, user);
    const response = await victim.post('/api/auth/logout').set('X-CSRF-Token', attackerToken).expect(403);
    expect(response.body.error.code).toBe('AUTH_1008');
    await victim.get('/api/auth/me').expect(200);
  });

  it('binds tokens to the session: the pre-sign-in token no longer works after sign-in', async () => {
    const agent = newAgent(ctx.app);
    const anonymousToken = await csrfToken(agent);
    await agent
      .post('/api/auth/login')
      .set('X-CSRF-Token', anonymousToken)
      .send({ email: user.email, password: user.password })
      .expect(200);
    await agent.post('/api/auth/logout').set('X-CSRF-Token', anonymousToken).expect(403);
    const sessionToken = await csrfToken(agent);
    await agent.post('/api/auth/logout').set('X-CSRF-Token', sessionToken).expect(204);
  });

  it('signs in with a token whose session another device ended between the token and its use, and only with that cookie', async () => {
    const laptop = await signIn(ctx.app, user);
    const token = await csrfToken(laptop);
    const sent = await laptop.get('/api/auth/csrf').expect(200);
    const csrfCookie = sentCookie(sent, 'csrf');
    const sessionCookie = sentCookie(sent, sessionCookieName(ctx.app));
    const phone = await signIn(ctx.app, user);
    const laptopsSession = (await phone.get('/api/sessions').expect(200)).body.items.find((item: { current: boolean }) => !item.current);
    expect((await deleteJson(phone, `/api/sessions/${laptopsSession.id}`)).status).toBe(204);

    const signInWith = (cookies: string) =>
      newAgent(ctx.app)
        .post('/api/auth/login')
        .set('Cookie', cookies)
        .set('X-CSRF-Token', token)
        .send({ email: user.email, password: user.password });
    for (const cookies of [csrfCookie, `${csrfCookie}; ${sessionCookie.slice(0, -2)}xx`]) {
      expect((await signInWith(cookies).expect(403)).body.error.code).toBe('AUTH_1008');
    }
    await signInWith(`${csrfCookie}; ${sessionCookie}`).expect(200);
  });

  it('refuses a cross-site request that carries no Origin but says it is cross-site', async () => {
    const victim = await signIn(ctx.app, user);
    const token = await csrfToken(victim);
    await victim.post('/api/auth/logout').set('X-CSRF-Token', token).set('Sec-Fetch-Site', 'cross-site').expect(403);
    await victim.post('/api/auth/logout').set('X-CSRF-Token', token).set('Origin', 'null').expect(403);
    await victim.get('/api/auth/me').expect(200);
  });
});
