import { MongoNetworkError, ObjectId } from 'mongodb';
import { UsersService } from '../../src/users/users.service';
import { Agent, newAgent, signIn, sleep } from '../helpers/agents';
import { send } from '../helpers/steps';
import { connectionOf, useTestApp } from '../helpers/test-app';
import { createUser, TestUser } from '../helpers/users';

/**
 * A known browser (one holding the account's device cookie) is counted on its
 * own device counter, kept on the account, and on no IP counter.
 */
const DEVICE_BUDGET = 3;
const MAX_PER_IP = 3;
const LOCK_MS = 6_000;
let nextIp = 1;
const freshIp = () => `198.51.100.${nextIp++}`;

describe('known browsers', () => {
  let admin: Agent;
  const ctx = useTestApp({
    db: 'known_browsers',
    env: {
      TRUST_PROXY: '1',
      LOGIN_MAX_FAILURES: '5',
      LOGIN_MAX_FAILURES_PER_IP: String(MAX_PER_IP),
      LOGIN_LOCK_MINUTES: String(LOCK_MS / 60_000),
    },
  });
  beforeAll(async () => {
    admin = await signIn(ctx.app, await createUser(ctx.app, { role: 'admin' }), newAgent(ctx.app).set('X-Forwarded-For', freshIp()));
  });
  afterEach(() => jest.restoreAllMocks());

  /** A browser that signed in as `user` once and signed out: it keeps the account's device cookie. */
  async function knownBrowser(user: TestUser, ip = freshIp()): Promise<Agent> {
    const agent = await signIn(ctx.app, user, newAgent(ctx.app).set('X-Forwarded-For', ip));
    await send(agent, 'post', '/api/auth/logout').then((response) => expect(response.status).toBe(204));
    return agent;
  }

  const login = (agent: Agent, user: TestUser, password = user.password) =>
    send(agent, 'post', '/api/auth/login', { email: user.email, password });

  const deviceCounters = async (user: TestUser) =>
    (
      await connectionOf(ctx.app)
        .collection('users')
        .findOne({ _id: new ObjectId(user.id) })
    )?.signInDevices ?? {};

  it('lets a known browser in while its shared IP is over LOGIN_MAX_FAILURES_PER_IP, and refuses a stranger on that IP', async () => {
    const office = freshIp();
    const owner = await createUser(ctx.app);
    const known = await knownBrowser(owner, office);
    for (let i = 0; i < MAX_PER_IP; i++) {
      const guess = await login(newAgent(ctx.app).set('X-Forwarded-For', office), await createUser(ctx.app), 'a guess');
      expect(guess.status).toBe(401);
    }
    const stranger = await login(newAgent(ctx.app).set('X-Forwarded-For', office), await createUser(ctx.app));
    expect(stranger.status).toBe(429);
    expect(stranger.body.error.code).toBe('AUTH_1006');

    const response = await login(known, owner);
    expect(response.status).toBe(200);
    // The known browser's attempt added nothing to the IP's counter.
    const ipCounter = await connectionOf(ctx.app)
      .collection('login_failures')
      .findOne({ _id: `ip:${office}` as never });
    expect(ipCounter?.points).toBe(MAX_PER_IP);
  });

  it('checks at most its budget of a parallel burst of wrong passwords, refuses the right one until the count lapses, then starts over', async () => {
    const user = await createUser(ctx.app);
    const known = await knownBrowser(user);
    const burst = await Promise.all(Array.from({ length: 10 }, () => login(known, user, 'wrong guess')));
    const statuses = burst.map((response) => response.status).sort();
    expect(statuses).toEqual([...Array(DEVICE_BUDGET).fill(401), ...Array(10 - DEVICE_BUDGET).fill(429)]);
    const refused = burst.find((response) => response.status === 429)!;
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(LOCK_MS / 1000);

    expect((await login(known, user)).status).toBe(429);
    // Another browser is counted on the account's counter, which this browser's failures did not touch.
    expect((await login(newAgent(ctx.app).set('X-Forwarded-For', freshIp()), user)).status).toBe(200);

    await sleep(LOCK_MS + 500);
    expect((await login(known, user, 'wrong again')).status).toBe(401);
    expect((await login(known, user)).status).toBe(200);
    expect(await deviceCounters(user)).toEqual({});
  });

  it('starts the count over on a success: two wrong, the right one, then three wrong are all checked', async () => {
    const user = await createUser(ctx.app);
    const known = await knownBrowser(user);
    for (let i = 0; i < DEVICE_BUDGET - 1; i++) expect((await login(known, user, 'wrong')).status).toBe(401);
    expect((await login(known, user)).status).toBe(200);
    for (let i = 0; i < DEVICE_BUDGET; i++) expect((await login(known, user, 'wrong')).status).toBe(401);
    expect((await login(known, user)).status).toBe(429);
  });

  it('gives the point back when the session cannot be issued after the password was proved (the database fails in between)', async () => {
    const user = await createUser(ctx.app);
    const known = await knownBrowser(user);
    jest
      .spyOn(ctx.app.get(UsersService), 'currentCredentials')
      .mockRejectedValueOnce(new MongoNetworkError('injected: connection to MongoDB lost'));
    const failed = await login(known, user);
    expect(failed.status).toBe(503);
    expect(failed.body.error.code).toBe('SYS_9002');
    expect(await deviceCounters(user)).toEqual({});
    expect((await login(known, user)).status).toBe(200);
  });

  it('gives the point back to a known browser whose password is right but whose account is disabled', async () => {
    const user = await createUser(ctx.app);
    const known = await knownBrowser(user);
    await send(admin, 'patch', `/api/admin/users/${user.id}`, { disabled: true }).then((response) => expect(response.status).toBe(200));
    for (let i = 0; i < DEVICE_BUDGET + 1; i++) {
      const response = await login(known, user);
      expect(response.status).toBe(403);
      expect(response.body.error.code).toBe('AUTH_1007');
    }
    expect(await deviceCounters(user)).toEqual({});
  });

  it('counts a device cookie whose account is gone like a stranger: the account and IP counters, and the same answer', async () => {
    const user = await createUser(ctx.app);
    const ip = freshIp();
    const known = await knownBrowser(user, ip);
    await connectionOf(ctx.app)
      .collection('users')
      .deleteOne({ _id: new ObjectId(user.id) });
    const response = await login(known, user);
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('AUTH_1001');
    expect(
      (
        await connectionOf(ctx.app)
          .collection('login_failures')
          .findOne({ _id: `ip:${ip}` as never })
      )?.points,
    ).toBe(1);
  });

  it('never shows device counters through the admin API', async () => {
    const user = await createUser(ctx.app);
    const known = await knownBrowser(user);
    expect((await login(known, user, 'wrong')).status).toBe(401);
    expect(Object.keys(await deviceCounters(user))).toHaveLength(1);
    const list = await admin.get('/api/admin/users').query({ q: user.email }).expect(200);
    const patched = await send(admin, 'patch', `/api/admin/users/${user.id}`, { name: 'Renamed' });
    expect(JSON.stringify(list.body)).not.toContain('signInDevices');
    expect(JSON.stringify(patched.body)).not.toContain('signInDevices');
  });
});
