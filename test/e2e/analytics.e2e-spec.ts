import { csrfToken, newAgent, signIn, sleep } from '../helpers/agents';
import { useTestApp } from '../helpers/test-app';
import { createUser } from '../helpers/users';

const IDLE_MS = 1_200;

describe('session analytics', () => {
  const ctx = useTestApp({
    db: 'analytics',
    env: {
      TRUST_PROXY: '1',
      LOGIN_MAX_FAILURES: '2',
      SESSION_INACTIVITY_MINUTES: String(IDLE_MS / 60_000),
      SESSION_SWEEP_SECONDS: '0.5',
    },
  });

  it('counts sign-ins, failures, locks, a sign-out and an abandoned session exactly, per hour and in total', async () => {
    const [leaver, abandoner, guessed] = await Promise.all([createUser(ctx.app), createUser(ctx.app), createUser(ctx.app)]);
    const leaving = await signIn(ctx.app, leaver, newAgent(ctx.app).set('X-Forwarded-For', '198.51.100.1'));
    const leavingToken = await csrfToken(leaving);
    await leaving.post('/api/auth/logout').set('X-CSRF-Token', leavingToken).expect(204);
    await signIn(ctx.app, abandoner, newAgent(ctx.app).set('X-Forwarded-For', '198.51.100.2'));
    const attacker = newAgent(ctx.app).set('X-Forwarded-For', '203.0.113.66').set('User-Agent', 'guesser/1.0');
    for (const expected of [401, 401, 429]) {
      const token = await csrfToken(attacker);
      const response = await attacker.post('/api/auth/login').set('X-CSRF-Token', token).send({ email: guessed.email, password: 'guess' });
      expect(response.status).toBe(expected);
    }
    // The abandoned session passes its idle deadline; the expiry pass (every 0.5 s) records its end.
    await sleep(IDLE_MS + 1_500);

    const admin = await createUser(ctx.app, { role: 'admin' });
    const agent = await signIn(ctx.app, admin, newAgent(ctx.app).set('X-Forwarded-For', '198.51.100.9'));
    const { body } = await agent.get('/api/admin/analytics?range=24h').expect(200);

    expect(body.totals.signIns).toEqual({ succeeded: 3, failed: 2, locked: 1 });
    expect(body.totals.endings).toEqual({ logout: 1, inactivity: 1, absolute: 0, revoked: 0, limit: 0, device: 0 });
    expect(body.sessionLength.count).toBe(2);
    // The box plot's figures, in order.
    const { p5Ms, p25Ms, medianMs, p75Ms, p90Ms, p95Ms } = body.sessionLength;
    const quantiles = [p5Ms, p25Ms, medianMs, p75Ms, p90Ms, p95Ms];
    for (const ms of quantiles) expect(typeof ms).toBe('number');
    expect(quantiles).toEqual([...quantiles].sort((a, b) => a - b));
    // Sources count the accounts they failed on: two wrong passwords and the lock, all at one account.
    expect(body.failedSignIns.topIps).toEqual([{ value: '203.0.113.66', count: 1 }]);
    expect(body.failedSignIns.topUserAgents).toEqual([{ value: 'guesser/1.0', count: 1 }]);

    // The hourly series add up to the totals.
    expect(body.bucket).toBe('hour');
    expect(body.series.signIns.length).toBeGreaterThanOrEqual(24);
    const sum = (rows: Record<string, number>[], key: string) => rows.reduce((total, row) => total + row[key], 0);
    expect(sum(body.series.signIns, 'succeeded')).toBe(3);
    expect(sum(body.series.endings, 'inactivity')).toBe(1);
    expect(body.series.activeSessions.length).toBeGreaterThanOrEqual(1);
    for (const sample of body.series.activeSessions) expect(Number.isFinite(sample.active)).toBe(true);
  });

  it('counts an emergency sign-out as that many revoked sessions, by an admin', async () => {
    const before = (await (await signIn(ctx.app, await createUser(ctx.app, { role: 'admin' }))).get('/api/admin/analytics').expect(200))
      .body;
    const admin = await createUser(ctx.app, { role: 'admin' });
    const agent = await signIn(ctx.app, admin);
    const token = await csrfToken(agent);
    const { ended } = (await agent.delete('/api/admin/sessions').set('X-CSRF-Token', token).expect(200)).body;
    expect(ended).toBeGreaterThanOrEqual(1);
    const after = (await agent.get('/api/admin/analytics').expect(200)).body;
    expect(after.totals.endings.revoked - before.totals.endings.revoked).toBe(ended);
    expect(after.totals.revokedBy.admin - before.totals.revokedBy.admin).toBe(ended);
  });

  it('offers 7 and 30 days by day, refuses other ranges, and downloads the same series as CSV', async () => {
    const admin = await createUser(ctx.app, { role: 'admin' });
    const agent = await signIn(ctx.app, admin);
    expect((await agent.get('/api/admin/analytics?range=7d').expect(200)).body).toMatchObject({ range: '7d', bucket: 'day' });
    expect((await agent.get('/api/admin/analytics?range=30d').expect(200)).body.series.signIns.length).toBeGreaterThanOrEqual(30);
    expect((await agent.get('/api/admin/analytics?range=1y').expect(400)).body.error.code).toBe('VAL_2001');
    const csv = await agent.get('/api/admin/analytics.csv?range=24h').expect(200);
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(csv.headers['content-disposition']).toContain('session-analytics-24h.csv');
    const lines = csv.text.trim().split('\n');
    expect(lines[0]).toBe('at,succeeded,failed,locked,logout,inactivity,absolute,revoked,limit,device,active');
    expect(lines.length).toBeGreaterThanOrEqual(25);
  });

  it('is for admins only', async () => {
    const agent = await signIn(ctx.app, await createUser(ctx.app));
    expect((await agent.get('/api/admin/analytics').expect(403)).body.error.code).toBe('AUTH_1005');
  });
});
