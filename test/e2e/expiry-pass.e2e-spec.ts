import type { NestExpressApplication } from '@nestjs/platform-express';
import { SessionExpiryPass } from '../../src/sessions/session-expiry-pass.service';
import { Agent, newAgent, sentCookie, signIn, sleep } from '../helpers/agents';
import { metricValue } from '../helpers/metrics';
import { connectionOf, createTestApp, destroyTestApp, uniqueDatabaseName, useTestApp } from '../helpers/test-app';
import { createUser } from '../helpers/users';

const IDLE_MS = 1_200;

describe('the expiry pass: every ended session recorded once', () => {
  const db = uniqueDatabaseName('expiry_pass');
  let first: NestExpressApplication;
  let second: NestExpressApplication;
  beforeAll(async () => {
    // Passes run when the test says (the timer is far off), on two app instances sharing one database.
    const env = { SESSION_INACTIVITY_MINUTES: String(IDLE_MS / 60_000), SESSION_SWEEP_SECONDS: '3600' };
    first = await createTestApp({ db, env });
    second = await createTestApp({ db, env });
  });
  afterAll(async () => {
    await second?.close();
    await destroyTestApp(first);
  });

  const expiredEvents = (userIds: string[]) =>
    connectionOf(first)
      .collection('session_events')
      .find({ type: 'session.expired', userId: { $in: userIds } })
      .toArray();

  async function abandonedSessions(count: number): Promise<{ userIds: string[]; agents: Agent[] }> {
    const users = await Promise.all(Array.from({ length: count }, () => createUser(first)));
    const agents = await Promise.all(users.map((user) => signIn(first, user)));
    return { userIds: users.map((user) => user.id), agents };
  }

  it('ends abandoned sessions with their reason and length, once, whichever instance gets there', async () => {
    const { userIds } = await abandonedSessions(3);
    await sleep(IDLE_MS + 300);
    const stillLive = await signIn(first, await createUser(first));

    const [byFirst, bySecond] = await Promise.all([first.get(SessionExpiryPass).run(), second.get(SessionExpiryPass).run()]);
    expect(byFirst + bySecond).toBeGreaterThanOrEqual(3);
    const events = await expiredEvents(userIds);
    expect(events).toHaveLength(3);
    for (const event of events) {
      expect(event.reason).toBe('inactivity');
      expect(event.durationMs).toBeGreaterThanOrEqual(IDLE_MS);
      expect(event.durationMs).toBeLessThan(IDLE_MS + 1_000);
    }
    // Marked ended, not deleted: the owner's next request still learns why, and removes it.
    const marked = { 'session.userId': { $in: userIds }, 'session.endedReason': 'inactivity' };
    expect(
      await connectionOf(first)
        .collection('sessions')
        .countDocuments(marked as never),
    ).toBe(3);
    await stillLive.get('/api/auth/me').expect(200);
    // An operator sees each pass: how long it took and how many sessions it found due.
    const found = await Promise.all([first, second].map((app) => metricValue(app, 'background_pass_backlog', { pass: 'session_expiry' })));
    expect(Math.max(...found)).toBeGreaterThanOrEqual(3);
    expect(await metricValue(first, 'background_pass_duration_seconds_count', { pass: 'session_expiry' })).toBeGreaterThanOrEqual(1);
  });

  it('still tells the owner why the session ended, every time, without a second record', async () => {
    const { userIds, agents } = await abandonedSessions(1);
    const cookies = [sentCookie(await agents[0].get('/api/auth/session').expect(200), 'session_token')];
    await sleep(IDLE_MS + 300);
    expect(await first.get(SessionExpiryPass).run()).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < 2; i++) {
      const answer = await newAgent(first).get('/api/auth/me').set('Cookie', cookies[0]).expect(401);
      expect(answer.body.error).toMatchObject({ code: 'AUTH_1002', details: { reason: 'inactivity' } });
    }
    expect(await expiredEvents(userIds)).toHaveLength(1);
  });

  it('records a session that a request and the pass both find expired once', async () => {
    const { userIds, agents } = await abandonedSessions(1);
    await sleep(IDLE_MS + 300);
    await Promise.all([agents[0].get('/api/auth/me'), first.get(SessionExpiryPass).run()]);
    expect(await expiredEvents(userIds)).toHaveLength(1);
  });
});

describe('the expiry pass on its timer', () => {
  const ctx = useTestApp({
    db: 'expiry_timer',
    env: { SESSION_INACTIVITY_MINUTES: String(IDLE_MS / 60_000), SESSION_SWEEP_SECONDS: '0.5' },
  });

  it('ends a session nobody comes back to, a few passes after its deadline', async () => {
    const user = await createUser(ctx.app);
    await signIn(ctx.app, user);
    const expired = () => connectionOf(ctx.app).collection('session_events').find({ type: 'session.expired', userId: user.id }).toArray();
    // Passes every 0.5 s, each waiting at least 19× its own length (busy machines stretch that): 10 s is ample.
    const giveUpAt = Date.now() + IDLE_MS + 10_000;
    while ((await expired()).length === 0 && Date.now() < giveUpAt) await sleep(200);
    expect(await expired()).toHaveLength(1);
  });
});
