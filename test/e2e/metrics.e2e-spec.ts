import request from 'supertest';
import { csrfToken, newAgent, signIn } from '../helpers/agents';
import { useTestApp } from '../helpers/test-app';
import { createUser, TestUser } from '../helpers/users';

const TOKEN = 'metrics-token-0123456789abcdef';

function valueOf(text: string, series: string): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

describe('/metrics', () => {
  describe('with METRICS_TOKEN', () => {
    let user: TestUser;
    const ctx = useTestApp({ db: 'metrics', env: { METRICS_TOKEN: TOKEN, CORS_ORIGINS: 'https://app.example' } });
    beforeAll(async () => {
      user = await createUser(ctx.app);
    });

    const scrape = async () => (await newAgent(ctx.app).get('/metrics').set('Authorization', `Bearer ${TOKEN}`).expect(200)).text;

    it('refuses a scrape without the token or with a wrong one', async () => {
      const missing = await newAgent(ctx.app).get('/metrics').expect(403);
      expect(missing.body.error.code).toBe('AUTH_1005');
      await newAgent(ctx.app).get('/metrics').set('Authorization', 'Bearer wrong-token-wrong-token').expect(403);
      await newAgent(ctx.app).get('/metrics').set('Authorization', TOKEN).expect(403);
    });

    it('counts a sign-in and a failure, logouts, revocations and session durations', async () => {
      const before = await scrape();
      const agent = await signIn(ctx.app, user);
      const failing = newAgent(ctx.app);
      const token = await csrfToken(failing);
      await failing.post('/api/auth/login').set('X-CSRF-Token', token).send({ email: user.email, password: 'wrong password' }).expect(401);
      const logoutToken = await csrfToken(agent);
      await agent.post('/api/auth/logout').set('X-CSRF-Token', logoutToken).expect(204);
      const keep = await signIn(ctx.app, user);
      await signIn(ctx.app, user);
      const keepToken = await csrfToken(keep);
      await keep.delete('/api/sessions').set('X-CSRF-Token', keepToken).expect(204);

      const after = await scrape();
      const delta = (series: string) => valueOf(after, series) - valueOf(before, series);
      expect(delta('auth_sign_ins_total{result="success"}')).toBe(3);
      expect(delta('auth_sign_ins_total{result="failure"}')).toBe(1);
      expect(delta('auth_logouts_total')).toBe(1);
      expect(delta('sessions_revoked_total{by="user"}')).toBe(1);
      expect(delta('session_duration_seconds_count')).toBe(2);
      expect(after).toMatch(/^sessions_active \d+$/m);
      expect(after).toMatch(/^http_request_duration_seconds_count\{method="GET",route="\/api\/auth\/csrf",status="200"\} \d+$/m);
    });

    it('counts CORS preflights by whether the origin is allowed', async () => {
      const before = await scrape();
      await newAgent(ctx.app).options('/api/auth/login').set('Origin', 'https://app.example').set('Access-Control-Request-Method', 'POST');
      await newAgent(ctx.app).options('/api/auth/login').set('Origin', 'https://evil.example').set('Access-Control-Request-Method', 'POST');
      const after = await scrape();
      for (const allowed of ['true', 'false']) {
        const series = `cors_preflight_requests_total{allowed="${allowed}"}`;
        expect(valueOf(after, series) - valueOf(before, series)).toBe(1);
      }
    });
  });

  describe('without METRICS_TOKEN', () => {
    const ctx = useTestApp({ db: 'metrics_open', env: { TRUST_PROXY: '1' } });

    it('answers a loopback client', async () => {
      const response = await request(ctx.app.getHttpServer()).get('/metrics').expect(200);
      expect(response.headers['content-type']).toMatch(/^text\/plain/);
      expect(response.text).toContain('auth_sign_ins_total');
    });

    it('refuses a request relayed by a proxy, whatever address it claims', async () => {
      const relayed = await request(ctx.app.getHttpServer()).get('/metrics').set('X-Forwarded-For', '127.0.0.1').expect(403);
      expect(relayed.body.error.code).toBe('AUTH_1005');
    });
  });
});
