import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { MAX_IP_LENGTH, MAX_USER_AGENT_LENGTH } from '../../src/common/context/request-context';
import { SessionEventsRepository } from '../../src/session-events/session-events.repository';
import { Agent, csrfToken, newAgent, signIn, sleep } from '../helpers/agents';
import { eventsOf, send } from '../helpers/steps';
import { connectionOf, useTestApp } from '../helpers/test-app';
import { createUser, TestUser } from '../helpers/users';

/** Every attempt of a burst gets a place in the hash queue. */
const ROOM_FOR_A_BURST = '1000';

/**
 * Refused sign-ins (429 AUTH_1006) are counted in `login_refused_total` and
 * recorded by at most one `login.locked` event per lock and counter, however
 * many arrive and however fast; what is stored of a client stays capped; and
 * a flood does not reorder the analytics tables of where failures come from.
 */
const PER_ACCOUNT = 3;
const PER_IP = 5;
const DEVICE_BUDGET = 3;
/** A lock outlasts a burst of 150 (its CSRF tokens included) more than five times over what it takes on a quiet machine. */
const LOCK_MS = 20_000;
const BURST = 150;
/** What the black-box run sent: a 15 KB User-Agent. */
const HUGE_USER_AGENT = `Mozilla/5.0 (X11; Linux x86_64) ${'A'.repeat(15_000)}`;

let nextIp = 1;
const freshIp = () => `203.0.113.${nextIp++}`;
const ghost = () => `ghost-${nextIp}-${Math.random().toString(36).slice(2)}@example.test`;

interface Attempt {
  email: string;
  password: string;
  ip: string;
  userAgent?: string;
}

/** Everything sent at once through the proxy (`X-Forwarded-For`): one CSRF token per agent first, then all the sign-ins. */
async function burst(app: NestExpressApplication, attempts: Attempt[]) {
  const prepared = await Promise.all(
    attempts.map(async (attempt) => {
      const agent = newAgent(app).set('X-Forwarded-For', attempt.ip);
      if (attempt.userAgent) agent.set('User-Agent', attempt.userAgent);
      return { agent, token: await csrfToken(agent), attempt };
    }),
  );
  return Promise.all(
    prepared.map(({ agent, token, attempt }) =>
      agent.post('/api/auth/login').set('X-CSRF-Token', token).send({ email: attempt.email, password: attempt.password }),
    ),
  );
}

const once = async (app: NestExpressApplication, attempt: Attempt) => (await burst(app, [attempt]))[0];
const outcomes = (responses: request.Response[]) => responses.map((response) => `${response.status} ${response.body.error?.code ?? ''}`);

/** The value of one series in a scrape of `/metrics` (open to loopback clients without METRICS_TOKEN). */
async function metric(app: NestExpressApplication, series: string): Promise<number> {
  const text = (await request(app.getHttpServer()).get('/metrics').expect(200)).text;
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line ? Number(line.split(' ')[1]) : 0;
}
const refused = (app: NestExpressApplication, counter: 'account' | 'ip' | 'device') =>
  metric(app, `login_refused_total{counter="${counter}"}`);

describe(`refused sign-ins (${PER_ACCOUNT} per account, ${PER_IP} per IP, ${DEVICE_BUDGET} per known browser, ${LOCK_MS / 1000} s lock)`, () => {
  const ctx = useTestApp({
    db: 'event_floods',
    env: {
      TRUST_PROXY: '1',
      LOGIN_MAX_FAILURES: String(PER_ACCOUNT),
      LOGIN_MAX_FAILURES_PER_IP: String(PER_IP),
      LOGIN_LOCK_MINUTES: String(LOCK_MS / 60_000),
      // Room in the hash queue for a whole burst: refusals by a lock are the subject, not shedding (sign-in-storm).
      SIGN_IN_QUEUE_MAX: ROOM_FOR_A_BURST,
    },
  });

  /** Locks the account with wrong passwords from addresses used for nothing else. */
  async function lock(user: TestUser) {
    for (let i = 0; i < PER_ACCOUNT; i++)
      expect((await once(ctx.app, { email: user.email, password: 'wrong', ip: freshIp() })).status).toBe(401);
  }

  it(`a burst of ${BURST} parallel attempts at a locked account writes one login.locked event and counts ${BURST} refusals`, async () => {
    const user = await createUser(ctx.app);
    await lock(user);
    const before = { account: await refused(ctx.app, 'account'), locked: await metric(ctx.app, 'auth_sign_ins_total{result="locked"}') };

    const started = Date.now();
    const responses = await burst(
      ctx.app,
      Array.from({ length: BURST }, (_, i) => ({ email: user.email, password: i % 2 ? user.password : 'wrong', ip: freshIp() })),
    );
    const burstMs = Date.now() - started;

    expect(outcomes(responses)).toEqual(Array(BURST).fill('429 AUTH_1006'));
    // The whole burst met one lock: it ended well before the lock could lapse.
    expect(burstMs).toBeLessThan(LOCK_MS);
    const locks = await eventsOf(ctx.app, { type: 'login.locked', userId: user.id });
    expect(locks).toHaveLength(1);
    expect(locks[0]).toMatchObject({ reason: 'account', email: user.email });
    // The refused attempts wrote nothing else: the failures that caused the lock are all there is.
    expect(await eventsOf(ctx.app, { type: 'login.failed', userId: user.id })).toHaveLength(PER_ACCOUNT);
    expect((await refused(ctx.app, 'account')) - before.account).toBe(BURST);
    expect((await metric(ctx.app, 'auth_sign_ins_total{result="locked"}')) - before.locked).toBe(BURST);
  });

  it('records a lock of an unknown email the same way, by a keyed hash of what was typed', async () => {
    const email = ghost();
    for (let i = 0; i < PER_ACCOUNT; i++) expect((await once(ctx.app, { email, password: 'wrong', ip: freshIp() })).status).toBe(401);
    const responses = await burst(
      ctx.app,
      Array.from({ length: 40 }, () => ({ email, password: 'wrong', ip: freshIp() })),
    );
    expect(outcomes(responses)).toEqual(Array(40).fill('429 AUTH_1006'));
    // The only lock here of an account that does not exist.
    const added = await eventsOf(ctx.app, { type: 'login.locked', userId: { $exists: false }, emailHash: { $exists: true } });
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({ reason: 'account', emailHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(JSON.stringify(added)).not.toContain(email);
  });

  it(`a burst of ${BURST} from one locked-out IP at many accounts writes one login.locked event for the IP`, async () => {
    const ip = freshIp();
    for (let i = 0; i < PER_IP; i++) expect((await once(ctx.app, { email: ghost(), password: 'wrong', ip })).status).toBe(401);
    const victim = await createUser(ctx.app);
    const before = await refused(ctx.app, 'ip');

    const responses = await burst(
      ctx.app,
      Array.from({ length: BURST }, (_, i) => ({
        email: i % 3 ? ghost() : victim.email,
        password: 'wrong',
        ip,
        userAgent: HUGE_USER_AGENT,
      })),
    );

    expect(outcomes(responses)).toEqual(Array(BURST).fill('429 AUTH_1006'));
    const locks = await eventsOf(ctx.app, { type: 'login.locked', ip });
    expect(locks).toHaveLength(1);
    expect(locks[0]).toMatchObject({ reason: 'ip' });
    // An IP's lock names no account: the attempts it refused were at many.
    expect(locks[0].userId).toBeUndefined();
    expect(locks[0].emailHash).toBeUndefined();
    expect(locks[0].userAgent).toBe(HUGE_USER_AGENT.slice(0, MAX_USER_AGENT_LENGTH));
    expect((await refused(ctx.app, 'ip')) - before).toBe(BURST);
    expect(await eventsOf(ctx.app, { type: 'login.locked', userId: victim.id })).toHaveLength(0);
  });

  it('a parallel burst from a locked known browser writes one login.locked event for its device counter', async () => {
    const user = await createUser(ctx.app);
    const known: Agent = await signIn(ctx.app, user, newAgent(ctx.app).set('X-Forwarded-For', freshIp()));
    await send(known, 'post', '/api/auth/logout').then((response) => expect(response.status).toBe(204));
    for (let i = 0; i < DEVICE_BUDGET; i++) {
      expect((await send(known, 'post', '/api/auth/login', { email: user.email, password: 'wrong' })).status).toBe(401);
    }
    const before = await refused(ctx.app, 'device');

    const responses = await Promise.all(
      Array.from({ length: 60 }, () => send(known, 'post', '/api/auth/login', { email: user.email, password: user.password })),
    );

    expect(outcomes(responses)).toEqual(Array(60).fill('429 AUTH_1006'));
    const locks = await eventsOf(ctx.app, { type: 'login.locked', userId: user.id });
    expect(locks).toHaveLength(1);
    expect(locks[0]).toMatchObject({ reason: 'device', email: user.email });
    expect((await refused(ctx.app, 'device')) - before).toBe(60);
  });

  it('a new lock after the last one lapsed writes a new event; one flood from one address meets one lock per counter', async () => {
    const user = await createUser(ctx.app);
    const ip = freshIp();
    const flood = () =>
      burst(
        ctx.app,
        Array.from({ length: 50 }, () => ({ email: user.email, password: 'wrong', ip })),
      );
    await lock(user);
    expect(outcomes(await flood())).toEqual(Array(50).fill('429 AUTH_1006'));
    const first = await eventsOf(ctx.app, { type: 'login.locked', userId: user.id });
    expect(first).toHaveLength(1);

    await sleep(LOCK_MS + 1_000);
    await lock(user);
    expect(outcomes(await flood())).toEqual(Array(50).fill('429 AUTH_1006'));
    const locks = await eventsOf(ctx.app, { type: 'login.locked', userId: user.id });
    expect(locks).toHaveLength(2);
    // The collection has no order of its own: the new lock is the later one.
    const latest = Math.max(...locks.map((event) => event.at.getTime()));
    expect(latest).toBeGreaterThan(first[0].at.getTime() + LOCK_MS);
    // Each refused attempt first charges the address and gives the point back once the account refuses
    // it: a flood from one address may find that address at its limit too, which is at most one lock more.
    expect((await eventsOf(ctx.app, { type: 'login.locked', ip })).filter((event) => event.reason === 'ip').length).toBeLessThanOrEqual(2);
  }, 60_000);

  it('keeps what is stored of a client capped: a 15 KB User-Agent and an overlong forwarded address', async () => {
    const user = await createUser(ctx.app);
    // Apart: both at once would pass Node's 16 KB header limit (431).
    const forwarded = `client-${'9'.repeat(2_000)}`;
    await signIn(ctx.app, user, newAgent(ctx.app).set('User-Agent', HUGE_USER_AGENT).set('X-Forwarded-For', freshIp()));
    await signIn(ctx.app, user, newAgent(ctx.app).set('X-Forwarded-For', forwarded));
    await once(ctx.app, { email: user.email, password: 'wrong', ip: freshIp(), userAgent: HUGE_USER_AGENT });
    await once(ctx.app, { email: ghost(), password: 'wrong', ip: forwarded });

    const sessions = await connectionOf(ctx.app).collection('sessions').find({ 'session.userId': user.id }).toArray();
    expect(sessions.map((document) => document.session.userAgent)).toContain(HUGE_USER_AGENT.slice(0, MAX_USER_AGENT_LENGTH));
    for (const { session } of sessions) {
      expect(session.userAgent.length).toBeLessThanOrEqual(MAX_USER_AGENT_LENGTH);
      expect(session.ip.length).toBeLessThanOrEqual(MAX_IP_LENGTH);
    }

    const events = await eventsOf(ctx.app, { $or: [{ userId: user.id }, { type: 'login.failed', userId: { $exists: false } }] });
    expect(events.length).toBeGreaterThanOrEqual(4);
    for (const event of events) {
      expect(event.userAgent.length).toBeLessThanOrEqual(MAX_USER_AGENT_LENGTH);
      expect(event.ip.length).toBeLessThanOrEqual(MAX_IP_LENGTH);
    }
    const counters = await connectionOf(ctx.app).collection('login_failures').find({}).toArray();
    for (const counter of counters) expect(String(counter._id).length).toBeLessThanOrEqual('account:'.length + 64);
  });
});

describe('where failed sign-ins come from, under a flood', () => {
  const FLOOD = 500;
  const FLOOD_IP = '198.51.100.250';
  const FLOOD_AGENT = `flood-bot/1.0 ${'B'.repeat(15_000)}`;
  const realIps = ['198.51.100.11', '198.51.100.12', '198.51.100.13', '198.51.100.14', '198.51.100.15'];

  let admin: Agent;
  const ctx = useTestApp({
    db: 'event_floods_analytics',
    // The address's own limit out of the way: this flood is at one account.
    env: {
      TRUST_PROXY: '1',
      LOGIN_MAX_FAILURES: String(PER_ACCOUNT),
      LOGIN_MAX_FAILURES_PER_IP: '100000',
      SIGN_IN_QUEUE_MAX: ROOM_FOR_A_BURST,
    },
  });
  beforeAll(async () => {
    admin = await signIn(ctx.app, await createUser(ctx.app, { role: 'admin' }), newAgent(ctx.app).set('X-Forwarded-For', '198.51.100.200'));
  });

  const report = async () => (await admin.get('/api/admin/analytics?range=24h').expect(200)).body;

  it(`${FLOOD} refused attempts from one address and user agent leave the real sources in the tables; the flood counts once`, async () => {
    // Real failures: each address (its own browser) mistyped the password of two accounts, then got in.
    for (const [index, ip] of realIps.entries()) {
      for (const user of [await createUser(ctx.app), await createUser(ctx.app)]) {
        const userAgent = `RealBrowser/${index + 1}`;
        expect((await once(ctx.app, { email: user.email, password: 'typo', ip, userAgent })).status).toBe(401);
        expect((await once(ctx.app, { email: user.email, password: user.password, ip, userAgent })).status).toBe(200);
      }
    }
    const real = await report();
    expect(real.failedSignIns.topIps).toEqual(realIps.map((value) => ({ value, count: 2 })));
    expect(real.failedSignIns.topUserAgents).toEqual(realIps.map((_, index) => ({ value: `RealBrowser/${index + 1}`, count: 2 })));

    // The flood: one address guesses one account until it is locked, then keeps going, in parallel waves.
    const target = await createUser(ctx.app);
    const refusedBefore = (await refused(ctx.app, 'account')) + (await refused(ctx.app, 'ip'));
    const statuses: string[] = [];
    for (let sent = 0; sent < PER_ACCOUNT + FLOOD; sent += 50) {
      const wave = Math.min(50, PER_ACCOUNT + FLOOD - sent);
      const attempt = { email: target.email, password: 'guess', ip: FLOOD_IP, userAgent: FLOOD_AGENT };
      statuses.push(...outcomes(await burst(ctx.app, Array(wave).fill(attempt))));
    }
    expect(statuses.filter((status) => status === '401 AUTH_1001')).toHaveLength(PER_ACCOUNT);
    expect(statuses.filter((status) => status === '429 AUTH_1006')).toHaveLength(FLOOD);
    expect((await refused(ctx.app, 'account')) + (await refused(ctx.app, 'ip')) - refusedBefore).toBe(FLOOD);

    const flooded = await report();
    expect(flooded.failedSignIns).toEqual(real.failedSignIns);
    expect(flooded.totals.signIns).toEqual({ succeeded: real.totals.signIns.succeeded, failed: 10 + PER_ACCOUNT, locked: 1 });
    // Below the real sources, the flood's address and user agent count once: one account, however many attempts.
    const since = new Date(Date.now() - 60 * 60_000);
    const events = ctx.app.get(SessionEventsRepository);
    expect((await events.topOfFailedSignIns('ip', since, 10)).find((row) => row.value === FLOOD_IP)).toEqual({ value: FLOOD_IP, count: 1 });
    const floodAgent = FLOOD_AGENT.slice(0, MAX_USER_AGENT_LENGTH);
    expect((await events.topOfFailedSignIns('userAgent', since, 10)).find((row) => row.value === floodAgent)).toEqual({
      value: floodAgent,
      count: 1,
    });
    expect(await connectionOf(ctx.app).collection('session_events').countDocuments({ ip: FLOOD_IP })).toBeLessThanOrEqual(PER_ACCOUNT + 2);
  }, 120_000);
});
