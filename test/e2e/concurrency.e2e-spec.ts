import { burstOfSignIns, csrfToken, newAgent, signIn, sleep } from '../helpers/agents';
import { watchCommands } from '../helpers/commands';
import { metricValue } from '../helpers/metrics';
import { connectionOf, useTestApp } from '../helpers/test-app';
import { createUser } from '../helpers/users';

const BURST = 30;
const MAX_FAILURES = 5;
const INACTIVITY_MS = 1_500;
let nextIp = 1;
const freshIp = () => `198.51.100.${nextIp++}`;

const statuses = (responses: { status: number }[]) =>
  responses.reduce<Record<number, number>>((counts, { status }) => ({ ...counts, [status]: (counts[status] ?? 0) + 1 }), {});

describe('protections under parallel requests', () => {
  const ctx = useTestApp({
    db: 'concurrency',
    env: {
      LOGIN_MAX_FAILURES: String(MAX_FAILURES),
      LOGIN_MAX_FAILURES_PER_IP: String(MAX_FAILURES),
      LOGIN_LOCK_MINUTES: '1',
      TRUST_PROXY: '1',
      SESSION_INACTIVITY_MINUTES: String(INACTIVITY_MS / 60_000),
      // Room in the hash queue for a whole burst: these tests are about the lockout, not about shedding (sign-in-storm).
      SIGN_IN_QUEUE_MAX: String(BURST),
    },
  });

  it(`checks at most ${MAX_FAILURES} passwords of a burst of ${BURST} against one account; the rest get 429`, async () => {
    const user = await createUser(ctx.app);
    const attempts = Array.from({ length: BURST }, (_, i) => ({ email: user.email, password: `wrong ${i}`, ip: freshIp() }));
    // The right password in the middle of the burst is refused like the rest once the budget is spent.
    attempts[BURST - 1] = { ...attempts[BURST - 1], password: user.password };
    const responses = await burstOfSignIns(ctx.app, attempts);
    const counts = statuses(responses);
    const checked = (counts[401] ?? 0) + (counts[200] ?? 0);
    expect(checked).toBeLessThanOrEqual(MAX_FAILURES);
    expect(counts[429]).toBe(BURST - checked);
    for (const response of responses.filter(({ status }) => status === 429)) {
      expect(response.body.error.code).toBe('AUTH_1006');
      expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    }
  });

  it(`checks at most ${MAX_FAILURES} passwords of a burst from one IP across many accounts`, async () => {
    const ip = freshIp();
    const users = await Promise.all(Array.from({ length: 10 }, () => createUser(ctx.app)));
    const attempts = Array.from({ length: BURST }, (_, i) => ({ email: users[i % users.length].email, password: 'wrong', ip }));
    const counts = statuses(await burstOfSignIns(ctx.app, attempts));
    expect(counts[401]).toBeLessThanOrEqual(MAX_FAILURES);
    expect(counts[429]).toBe(BURST - counts[401]);
  });

  it('gives a successful sign-in its points back, so only failures add up', async () => {
    const user = await createUser(ctx.app);
    const ip = freshIp();
    for (let i = 0; i < MAX_FAILURES * 2; i++) {
      const [response] = await burstOfSignIns(ctx.app, [{ email: user.email, password: user.password, ip }]);
      expect(response.status).toBe(200);
    }
  });

  it('records the end of an expired session once, however many requests find it expired', async () => {
    const user = await createUser(ctx.app);
    const agent = await signIn(ctx.app, user);
    const before = await metricValue(ctx.app, 'sessions_expired_total', { reason: 'inactivity' });
    await sleep(INACTIVITY_MS + 300);
    const commands = watchCommands(ctx.app);
    const responses = await Promise.all(Array.from({ length: 10 }, () => agent.get('/api/auth/me')));
    commands.stop();
    const codes = responses.map((response) => `${response.status} ${response.body.error?.code}`);
    // Every request that read the session found it expired and says so; one that read after the
    // delete finds no session at all (AUTH_1003). None succeeds, none fails otherwise.
    expect(codes).toContain('401 AUTH_1002');
    expect(codes.filter((code) => code !== '401 AUTH_1002' && code !== '401 AUTH_1003')).toEqual([]);
    const events = await connectionOf(ctx.app).collection('session_events').countDocuments({ type: 'session.expired', userId: user.id });
    expect(events).toBe(1);
    expect((await metricValue(ctx.app, 'sessions_expired_total', { reason: 'inactivity' })) - before).toBe(1);
    // Each request that read the session before it was marked tries to mark it (one write each, one wins);
    // the winner alone records and removes it.
    const seen = commands.seen();
    expect(seen.filter((command) => command === 'update sessions').length).toBeLessThanOrEqual(
      codes.filter((code) => code === '401 AUTH_1002').length,
    );
    expect(seen.filter((command) => command === 'delete sessions')).toHaveLength(1);
  });

  it('signs out once under parallel sign-outs: every answer is 204, one logout event', async () => {
    const user = await createUser(ctx.app);
    const agent = await signIn(ctx.app, user);
    const token = await csrfToken(agent);
    const responses = await Promise.all(Array.from({ length: 8 }, () => agent.post('/api/auth/logout').set('X-CSRF-Token', token)));
    expect(responses.map((response) => response.status)).toEqual(Array(8).fill(204));
    expect(await connectionOf(ctx.app).collection('session_events').countDocuments({ type: 'logout', userId: user.id })).toBe(1);
  });

  it('signs in from a known browser with 4 database operations: count and read the account, insert, re-read and give back, record', async () => {
    const user = await createUser(ctx.app);
    const agent = newAgent(ctx.app).set('X-Forwarded-For', freshIp());
    // A first sign-in leaves this browser the account's device cookie; a new browser also records login.new_device.
    await signIn(ctx.app, user, agent);
    const signedInToken = await csrfToken(agent);
    await agent.post('/api/auth/logout').set('X-CSRF-Token', signedInToken).expect(204);
    const token = await csrfToken(agent);
    const commands = watchCommands(ctx.app);
    await agent.post('/api/auth/login').set('X-CSRF-Token', token).send({ email: user.email, password: user.password }).expect(200);
    commands.stop();
    // The device's counter is on the account: counting the attempt reads the password hash, and the credential
    // re-read after the insert (an admin change racing the sign-in) gives the point back. No IP counter, no
    // delete of the anonymous id, no save after the insert. The account's flag, read with it, says it has no
    // second factor: its factors are not read.
    expect(commands.seen()).toEqual(['findAndModify users', 'insert sessions', 'findAndModify users', 'insert session_events']);
  });

  it('signs in from a new browser with 7: both counters, the account, giving the points back, insert, re-read, record twice', async () => {
    const user = await createUser(ctx.app);
    const agent = newAgent(ctx.app).set('X-Forwarded-For', freshIp());
    const token = await csrfToken(agent);
    const commands = watchCommands(ctx.app);
    await agent.post('/api/auth/login').set('X-CSRF-Token', token).send({ email: user.email, password: user.password }).expect(200);
    commands.stop();
    expect(commands.seen()).toEqual([
      'update login_failures',
      'find users',
      'update login_failures',
      'insert sessions',
      'find users',
      'insert session_events',
      'insert session_events',
    ]);
  });

  it('creates and deletes sessions with majority write concern, so a replica-set failover cannot undo either', async () => {
    const agent = newAgent(ctx.app).set('X-Forwarded-For', freshIp());
    const user = await createUser(ctx.app);
    const commands = watchCommands(ctx.app);
    await signIn(ctx.app, user, agent);
    const token = await csrfToken(agent);
    await agent.post('/api/auth/logout').set('X-CSRF-Token', token).expect(204);
    commands.stop();
    const sessionWrites = commands.commands().filter((command) => command.insert === 'sessions' || command.delete === 'sessions');
    expect(sessionWrites.map((command) => Object.keys(command)[0])).toEqual(['insert', 'delete']);
    for (const command of sessionWrites) expect(command.writeConcern).toEqual({ w: 'majority' });
  });

  it('serves a signed-in request with one database operation: the session, which carries its user', async () => {
    const user = await createUser(ctx.app);
    const agent = await signIn(ctx.app, user);
    const commands = watchCommands(ctx.app);
    await agent.get('/api/auth/me').expect(200);
    commands.stop();
    expect(commands.seen()).toEqual(['find sessions']);
  });
});
