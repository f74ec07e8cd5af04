import { agentFrom, attemptSignIn, sleep } from '../helpers/agents';
import { connectionOf, useTestApp } from '../helpers/test-app';
import { createUser, TestUser } from '../helpers/users';

const LOCK_MS = 3_000;
let nextIp = 1;
/** Each test signs in from its own client address (TRUST_PROXY is on), so IP counters stay apart. */
const freshIp = () => `203.0.113.${nextIp++}`;

describe('brute-force protection (3 per account, 5 per IP, 3 s lock)', () => {
  const ctx = useTestApp({
    db: 'brute_force',
    env: { LOGIN_MAX_FAILURES: '3', LOGIN_MAX_FAILURES_PER_IP: '5', LOGIN_LOCK_MINUTES: '0.05', TRUST_PROXY: '1' },
  });

  it('locks an account after 3 failures, even for the right password, until the lock has passed', async () => {
    const user = await createUser(ctx.app);
    for (let i = 0; i < 3; i++) expect((await attemptSignIn(agentFrom(ctx.app, freshIp()), user.email, 'wrong password')).status).toBe(401);

    const locked = await attemptSignIn(agentFrom(ctx.app, freshIp()), user.email, user.password);
    expect(locked.status).toBe(429);
    expect(locked.body.error.code).toBe('AUTH_1006');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(locked.headers['retry-after'])).toBeLessThanOrEqual(LOCK_MS / 1000);
    expect(await connectionOf(ctx.app).collection('login_failures').countDocuments()).toBeGreaterThan(0);

    await sleep(LOCK_MS + 500);
    expect((await attemptSignIn(agentFrom(ctx.app, freshIp()), user.email, user.password)).status).toBe(200);
  });

  it('locks an unknown email the same way, so a lock reveals nothing', async () => {
    const ghost = 'ghost@example.test';
    for (let i = 0; i < 3; i++) expect((await attemptSignIn(agentFrom(ctx.app, freshIp()), ghost, 'whatever pass')).status).toBe(401);
    expect((await attemptSignIn(agentFrom(ctx.app, freshIp()), ghost, 'whatever pass')).status).toBe(429);
  });

  it('resets the account counter on a successful sign-in', async () => {
    const user = await createUser(ctx.app);
    const ip = freshIp();
    for (let i = 0; i < 2; i++) await attemptSignIn(agentFrom(ctx.app, ip), user.email, 'wrong password');
    expect((await attemptSignIn(agentFrom(ctx.app, ip), user.email, user.password)).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await attemptSignIn(agentFrom(ctx.app, freshIp()), user.email, 'wrong password')).status).toBe(401);
    expect((await attemptSignIn(agentFrom(ctx.app, freshIp()), user.email, user.password)).status).toBe(200);
  });

  it('locks a client IP after 5 failures across accounts', async () => {
    const ip = freshIp();
    const victims: TestUser[] = await Promise.all([1, 2, 3].map(() => createUser(ctx.app)));
    for (let i = 0; i < 5; i++) await attemptSignIn(agentFrom(ctx.app, ip), victims[i % 2].email, 'wrong password');
    const fromSameIp = await attemptSignIn(agentFrom(ctx.app, ip), victims[2].email, victims[2].password);
    expect(fromSameIp.status).toBe(429);
    expect((await attemptSignIn(agentFrom(ctx.app, freshIp()), victims[2].email, victims[2].password)).status).toBe(200);
  });
});

describe('failed sign-ins in the event log', () => {
  const ctx = useTestApp({ db: 'failed_events', env: { TRUST_PROXY: '1' } });

  it('keeps no typed text for an unknown account (a keyed hash instead) and the user id for a known one', async () => {
    const typedSecret = 'MyPassw0rd-typed-in-the-email-box';
    const user = await createUser(ctx.app);
    await attemptSignIn(agentFrom(ctx.app, freshIp()), typedSecret, 'whatever');
    await attemptSignIn(agentFrom(ctx.app, freshIp()), typedSecret.toUpperCase(), 'whatever');
    await attemptSignIn(agentFrom(ctx.app, freshIp()), user.email.toUpperCase(), 'wrong password');

    const events = await connectionOf(ctx.app).collection('session_events').find({ type: 'login.failed' }).toArray();
    expect(JSON.stringify(events).toLowerCase()).not.toContain(typedSecret.toLowerCase());
    const unknown = events.filter((event) => event.userId === undefined);
    expect(unknown).toHaveLength(2);
    expect(unknown[0].emailHash).toMatch(/^[0-9a-f]{64}$/);
    // The same typed text (any case) gives the same hash, so repeated attempts still group.
    expect(unknown[1].emailHash).toBe(unknown[0].emailHash);
    expect(events.find((event) => event.userId === user.id)).toMatchObject({ email: user.email, reason: 'invalid_credentials' });
  });
});

describe('sign-in timing with production password hashing', () => {
  const ctx = useTestApp({
    db: 'timing',
    realPasswordHashing: true,
    env: { TRUST_PROXY: '1', LOGIN_MAX_FAILURES: '100' },
  });

  const median = (samples: number[]) => [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)];

  /** Milliseconds one refused sign-in took (it must be refused for the password, not a lock). */
  async function refusedInMs(email: string): Promise<number> {
    const started = process.hrtime.bigint();
    const response = await attemptSignIn(agentFrom(ctx.app, freshIp()), email, 'wrong password');
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    expect(response.status).toBe(401);
    return ms;
  }

  it('takes about as long for an unknown email as for a wrong password (a dummy hash is verified)', async () => {
    const user = await createUser(ctx.app);
    const ip = freshIp();
    // Warm up both paths (hash parameters, JIT) before measuring.
    await attemptSignIn(agentFrom(ctx.app, ip), 'nobody-warmup@example.test', 'wrong password');
    // Interleaved, so load from other test files weighs on both alike.
    const wrongPassword: number[] = [];
    const unknownEmail: number[] = [];
    for (let i = 0; i < 9; i++) {
      wrongPassword.push(await refusedInMs(user.email));
      unknownEmail.push(await refusedInMs(`nobody-${i}@example.test`));
    }
    const ratio = median(unknownEmail) / median(wrongPassword);
    expect(ratio).toBeGreaterThan(0.6);
    expect(ratio).toBeLessThan(1.6);
  });
});
