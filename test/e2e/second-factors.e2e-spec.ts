import type { NestExpressApplication } from '@nestjs/platform-express';
import { Agent, csrfToken, newAgent, sentCookie, signIn, sleep } from '../helpers/agents';
import { awayFromStepEdge, enrolTotp, totpCode } from '../helpers/second-factors';
import { connectionOf, useTestApp } from '../helpers/test-app';
import { createUser, TestUser } from '../helpers/users';

const STEP_MS = 30_000;
const MAX_FAILURES = 3;
const REAUTH_MS = 6_000;
let nextIp = 1;

const events = (app: NestExpressApplication, filter: Record<string, unknown>) =>
  connectionOf(app).collection('session_events').find(filter).sort({ at: 1 }).toArray();

describe('second factors', () => {
  const ctx = useTestApp({
    db: 'second_factors',
    env: {
      TRUST_PROXY: '1',
      LOGIN_MAX_FAILURES: String(MAX_FAILURES),
      LOGIN_LOCK_MINUTES: '1',
      REAUTH_MINUTES: String(REAUTH_MS / 60_000),
    },
  });

  /** An agent of its own client address, so one test's failures never reach another's IP counter. */
  const freshAgent = () => newAgent(ctx.app).set('X-Forwarded-For', `198.51.100.${nextIp++}`);
  const signedIn = (user: TestUser) => signIn(ctx.app, user, freshAgent());

  /** The token is fetched first: the agent attaches its cookies when a request is created. */
  async function post(agent: Agent, path: string, body: object = {}) {
    const token = await csrfToken(agent);
    return agent.post(path).set('X-CSRF-Token', token).send(body);
  }

  async function remove(agent: Agent, path: string) {
    const token = await csrfToken(agent);
    return agent.delete(path).set('X-CSRF-Token', token);
  }

  describe('how a session was proven (amr)', () => {
    it('says a password sign-in was proven by the password, in /me, the device list and the admin list', async () => {
      const before = Date.now();
      const user = await createUser(ctx.app);
      const agent = await signedIn(user);
      const { amr } = (await agent.get('/api/auth/me').expect(200)).body.session;
      expect(amr).toEqual([{ method: 'pwd', at: expect.any(String) }]);
      expect(Date.parse(amr[0].at)).toBeGreaterThanOrEqual(before - 1000);

      const devices = (await agent.get('/api/sessions').expect(200)).body;
      expect(devices.items).toEqual([expect.objectContaining({ current: true, amr })]);

      const admin = await createUser(ctx.app, { role: 'admin' });
      const adminAgent = await signedIn(admin);
      const sessions = (await adminAgent.get(`/api/admin/sessions?userId=${user.id}`).expect(200)).body;
      expect(sessions.items).toEqual([expect.objectContaining({ userId: user.id, amr })]);
    });
  });

  describe('enrolling an authenticator app', () => {
    it('counts the factor only once a valid code confirms it, then lists it with ten recovery codes', async () => {
      const user = await createUser(ctx.app);
      const agent = await signedIn(user);
      const started = await post(agent, '/api/auth/factors/totp', { name: 'Phone' });
      expect(started.status).toBe(201);
      expect(started.body).toEqual({
        id: expect.any(String),
        secret: expect.stringMatching(/^[A-Z2-7]{32}$/),
        otpauthUrl: expect.any(String),
      });
      const uri = new URL(started.body.otpauthUrl);
      expect(uri.protocol).toBe('otpauth:');
      expect(uri.searchParams.get('secret')).toBe(started.body.secret);
      expect((await agent.get('/api/auth/factors').expect(200)).body).toEqual({ items: [], recoveryCodesLeft: 0 });

      await awayFromStepEdge();
      const wrong = await post(agent, `/api/auth/factors/totp/${started.body.id}/verify`, {
        code: totpCode(started.body.secret, Date.now() + 2 * STEP_MS),
      });
      expect(wrong.status).toBe(401);
      expect(wrong.body.error.code).toBe('AUTH_1013');

      const confirmed = await post(agent, `/api/auth/factors/totp/${started.body.id}/verify`, { code: totpCode(started.body.secret) });
      expect(confirmed.status).toBe(200);
      expect(confirmed.body.factor).toMatchObject({ id: started.body.id, type: 'totp', name: 'Phone', confirmedAt: expect.any(String) });
      expect(confirmed.body.factor.secret).toBeUndefined();
      expect(confirmed.body.recoveryCodes).toHaveLength(10);
      const list = (await agent.get('/api/auth/factors').expect(200)).body;
      expect(list).toEqual({ items: [confirmed.body.factor], recoveryCodesLeft: 10 });
      expect(await events(ctx.app, { userId: user.id, type: { $in: ['mfa.enrolled', 'mfa.failed'] } })).toEqual([
        expect.objectContaining({ type: 'mfa.failed', method: 'totp', reason: 'enrolment' }),
        expect.objectContaining({ type: 'mfa.enrolled', method: 'totp' }),
      ]);
    });

    it('ends the account’s other sessions and keeps this one under a new id, now proven by the code too', async () => {
      const user = await createUser(ctx.app);
      const agent = await signedIn(user);
      const elsewhere = await signedIn(user);
      const before = sentCookie(await agent.get('/api/auth/me').expect(200), 'session_token');
      await enrolTotp(agent);

      expect((await elsewhere.get('/api/auth/me').expect(401)).body.error.code).toBe('AUTH_1003');
      const me = await agent.get('/api/auth/me').expect(200);
      expect(sentCookie(me, 'session_token')).not.toBe(before);
      expect(me.body.session.amr.map((entry: { method: string }) => entry.method)).toEqual(['pwd', 'otp']);
      const old = newAgent(ctx.app).set('Cookie', before);
      expect((await old.get('/api/auth/me').expect(401)).body.error.code).toBe('AUTH_1003');
    });

    it('counts wrong enrolment codes toward the lockout like wrong passwords (a known browser on its own counter)', async () => {
      const user = await createUser(ctx.app);
      const agent = await signedIn(user);
      const { id } = (await post(agent, '/api/auth/factors/totp')).body;
      const answers = [];
      for (let i = 0; i <= MAX_FAILURES; i++)
        answers.push((await post(agent, `/api/auth/factors/totp/${id}/verify`, { code: '000000' })).status);
      expect(answers).toEqual([...Array(MAX_FAILURES).fill(401), 429]);
      const signInNow = await post(agent, '/api/auth/login', { email: user.email, password: user.password });
      expect(signInNow.status).toBe(429);
    });

    it('refuses another user’s enrolment and factor ids as not found', async () => {
      const owner = await createUser(ctx.app);
      const other = await createUser(ctx.app);
      const ownerAgent = await signedIn(owner);
      const otherAgent = await signedIn(other);
      const { factorId, secret } = await enrolTotp(ownerAgent);
      const { id: pending, secret: pendingSecret } = (await post(ownerAgent, '/api/auth/factors/totp')).body;

      const confirm = await post(otherAgent, `/api/auth/factors/totp/${pending}/verify`, { code: totpCode(pendingSecret) });
      expect(confirm.status).toBe(404);
      const removal = await remove(otherAgent, `/api/auth/factors/${factorId}`);
      expect(removal.status).toBe(404);
      expect((await ownerAgent.get('/api/auth/factors').expect(200)).body.items).toHaveLength(1);
      expect(secret).not.toBe(pendingSecret);
    });

    it('removes a factor, its recovery codes with the last one, ending the other sessions', async () => {
      const user = await createUser(ctx.app);
      const agent = await signedIn(user);
      const { factorId } = await enrolTotp(agent);
      const elsewhere = await signedIn(user);
      expect((await remove(agent, `/api/auth/factors/${factorId}`)).status).toBe(204);
      expect((await agent.get('/api/auth/factors').expect(200)).body).toEqual({ items: [], recoveryCodesLeft: 0 });
      expect((await elsewhere.get('/api/auth/me').expect(401)).body.error.code).toBe('AUTH_1003');
      expect(await events(ctx.app, { userId: user.id, type: 'mfa.removed' })).toHaveLength(1);
    });

    it('regenerates recovery codes: a new set of ten, shown once, the other sessions ended', async () => {
      const user = await createUser(ctx.app);
      const agent = await signedIn(user);
      const { recoveryCodes } = await enrolTotp(agent);
      const elsewhere = await signedIn(user);
      const fresh = await post(agent, '/api/auth/recovery-codes');
      expect(fresh.status).toBe(200);
      expect(fresh.body.recoveryCodes).toHaveLength(10);
      expect(fresh.body.recoveryCodes).not.toEqual(expect.arrayContaining([recoveryCodes[0]]));
      expect((await elsewhere.get('/api/auth/me').expect(401)).body.error.code).toBe('AUTH_1003');
    });

    it('needs a recent authentication to enrol, remove or regenerate', async () => {
      const user = await createUser(ctx.app);
      const agent = await signedIn(user);
      const { factorId } = await enrolTotp(agent);
      await sleep(REAUTH_MS + 200);
      for (const response of [
        await post(agent, '/api/auth/factors/totp'),
        await post(agent, `/api/auth/factors/totp/${factorId}/verify`, { code: '123456' }),
        await remove(agent, `/api/auth/factors/${factorId}`),
        await post(agent, '/api/auth/recovery-codes'),
      ]) {
        expect(response.status).toBe(403);
        expect(response.body.error).toMatchObject({ code: 'AUTH_1009', details: { reauthUrl: '/reauth' } });
      }
    });
  });
});
