import type { NestExpressApplication } from '@nestjs/platform-express';
import { csrfToken, newAgent, signIn } from '../helpers/agents';
import { captureLogs } from '../helpers/logs';
import { eventsOf } from '../helpers/steps';
import { connectionOf, useTestApp } from '../helpers/test-app';
import { createUser, TestUser } from '../helpers/users';

/** X-Forwarded-For entries that are no address a proxy could have seen a client connect from. */
const NOT_ADDRESSES = [
  'not-an-ip',
  '1.2.3.4.5',
  '<script>alert(1)</script>',
  'x'.repeat(10_000),
  'unknown',
  '_hidden',
  'fe80::1%eth0',
  'fe80::1%25eth0',
  '1.2.3.4:8080',
  '[2001:db8::1]',
  '01.2.3.4',
  '2001:db8::/32',
  '1.2.3.4 5',
  'null',
];

/** Unusual but real addresses: taken as given. */
const ADDRESSES = ['::ffff:1.2.3.4', '::ffff:c000:0201', '2001:db8::7', '203.0.113.77'];

const PARALLEL = 30;
const WARNING = /X-Forwarded-For entry .* is not an IP address/;

async function signInFrom(app: NestExpressApplication, forwardedFor: string, user: TestUser, password = user.password) {
  const agent = newAgent(app).set('X-Forwarded-For', forwardedFor);
  const token = await csrfToken(agent);
  return agent.post('/api/auth/login').set('X-CSRF-Token', token).send({ email: user.email, password });
}

/** What the app recorded of one sign-in's client: its session, its lockout counter, its events. */
async function recordedIps(app: NestExpressApplication, user: TestUser) {
  const database = connectionOf(app);
  const session = await database.collection('sessions').findOne({ 'session.userId': user.id });
  const events = await eventsOf(app, { userId: user.id, type: { $in: ['login.failed', 'login.succeeded'] } });
  return { session: session?.session.ip as string, events: events.map((event) => event.ip as string) };
}

async function ipCounters(app: NestExpressApplication): Promise<Map<string, number>> {
  const counters = await connectionOf(app)
    .collection<{ _id: string; points: number }>('login_failures')
    .find({ _id: { $regex: '^ip:' } })
    .toArray();
  return new Map(counters.map((counter) => [counter._id, counter.points]));
}

describe('X-Forwarded-For behind one trusted proxy (TRUST_PROXY=1)', () => {
  /** The proxy's address, as the app sees the connection. */
  let proxy: string;
  const { destination, lines } = captureLogs();

  const ctx = useTestApp({
    db: 'forwarded_for',
    // Room in the hash queue for the whole burst: which address is counted is the subject, not shedding.
    env: {
      TRUST_PROXY: '1',
      LOG_LEVEL: 'warn',
      LOGIN_MAX_FAILURES: '1000',
      LOGIN_MAX_FAILURES_PER_IP: '1000',
      SIGN_IN_QUEUE_MAX: '1000',
    },
    logDestination: destination,
  });
  beforeAll(async () => {
    // Without the header the client is the socket's peer: here, the proxy.
    const user = await createUser(ctx.app);
    await signIn(ctx.app, user);
    proxy = (await recordedIps(ctx.app, user)).session;
    expect(proxy).toMatch(/127\.0\.0\.1$/);
  });

  it.each(NOT_ADDRESSES.map((entry) => [entry.length > 40 ? `${entry.slice(0, 12)}… (${entry.length} chars)` : entry, entry]))(
    'takes the proxy, not %j, as the client: session, lockout counter and events',
    async (_label, entry) => {
      const user = await createUser(ctx.app);
      const before = (await ipCounters(ctx.app)).get(`ip:${proxy}`) ?? 0;
      expect((await signInFrom(ctx.app, `203.0.113.1, ${entry}`, user, 'wrong')).status).toBe(401);
      expect((await ipCounters(ctx.app)).get(`ip:${proxy}`)).toBe(before + 1);
      expect((await signInFrom(ctx.app, entry, user)).status).toBe(200);
      expect(await recordedIps(ctx.app, user)).toEqual({ session: proxy, events: [proxy, proxy] });
    },
  );

  it.each(ADDRESSES)('takes %s as given', async (address) => {
    const user = await createUser(ctx.app);
    expect((await signInFrom(ctx.app, address, user, 'wrong')).status).toBe(401);
    expect((await ipCounters(ctx.app)).get(`ip:${address}`)).toBe(1);
    expect((await signInFrom(ctx.app, `6.6.6.6, ${address}`, user)).status).toBe(200);
    expect(await recordedIps(ctx.app, user)).toEqual({ session: address, events: [address, address] });
  });

  it('never keys a counter by an entry that is not an address', async () => {
    const keys = [...(await ipCounters(ctx.app)).keys()].map((key) => key.slice('ip:'.length));
    expect(keys.sort()).toEqual([proxy, ...ADDRESSES].sort());
  });

  it(`counts a parallel burst of ${PARALLEL} such sign-ins on the proxy, and warns once in all`, async () => {
    const user = await createUser(ctx.app);
    const before = (await ipCounters(ctx.app)).get(`ip:${proxy}`) ?? 0;
    const responses = await Promise.all(
      Array.from({ length: PARALLEL }, (_, i) => signInFrom(ctx.app, NOT_ADDRESSES[i % NOT_ADDRESSES.length], user, 'wrong')),
    );
    expect(responses.map((response) => response.status)).toEqual(Array(PARALLEL).fill(401));
    expect((await ipCounters(ctx.app)).get(`ip:${proxy}`)).toBe(before + PARALLEL);
    expect((await recordedIps(ctx.app, user)).events).toEqual(Array(PARALLEL).fill(proxy));

    const warnings = lines().filter((line) => WARNING.test(String(line.msg)));
    expect(warnings).toHaveLength(1);
    expect(warnings[0].msg).toMatch(/TRUST_PROXY/);
    expect(String(warnings[0].msg).length).toBeLessThan(500);
  });
});

describe('X-Forwarded-For behind two trusted proxies (TRUST_PROXY=2: an edge, then a load balancer)', () => {
  let balancer: string;

  const ctx = useTestApp({ db: 'forwarded_for', env: { TRUST_PROXY: '2', LOGIN_MAX_FAILURES: '1000', LOGIN_MAX_FAILURES_PER_IP: '1000' } });
  beforeAll(async () => {
    const user = await createUser(ctx.app);
    await signIn(ctx.app, user);
    balancer = (await recordedIps(ctx.app, user)).session;
  });

  /** What the app gets: what the client claimed, what the edge saw connect to it, what the balancer saw (the edge). */
  const chain = (claimed: string, seenByEdge: string, seenByBalancer: string) => `${claimed}, ${seenByEdge}, ${seenByBalancer}`;

  it.each([
    ['the edge, when the edge wrote "unknown"', chain('1.1.1.1', 'unknown', '10.0.0.7'), () => '10.0.0.7'],
    ['the balancer, when the balancer wrote "unknown"', chain('1.1.1.1', '198.51.100.4', 'unknown'), () => balancer],
    ['the balancer, whatever lies beyond a bad entry', chain('198.51.100.4', 'x'.repeat(5_000), '<script>'), () => balancer],
    ['the client the edge saw, past a forged entry', chain('not-an-ip', '198.51.100.4', '10.0.0.7'), () => '198.51.100.4'],
  ])('takes %s', async (_who, forwardedFor, expected) => {
    const user = await createUser(ctx.app);
    expect((await signInFrom(ctx.app, forwardedFor, user, 'wrong')).status).toBe(401);
    expect((await ipCounters(ctx.app)).has(`ip:${expected()}`)).toBe(true);
    expect((await signInFrom(ctx.app, forwardedFor, user)).status).toBe(200);
    expect(await recordedIps(ctx.app, user)).toEqual({ session: expected(), events: [expected(), expected()] });
  });
});

/** What README says of AUTH_1011: X-Forwarded-Proto counts only from a trusted peer, and only its first value. */
describe.each([
  { trust: 'loopback', peer: 'a trusted peer', answers: { https: 200, 'https, http': 200, 'http, https': 403, http: 403 } },
  { trust: '10.0.0.0/8', peer: 'a peer TRUST_PROXY does not name', answers: { https: 403, 'https, http': 403 } },
])('X-Forwarded-Proto from $peer (TRUST_PROXY=$trust, COOKIE_SECURE)', ({ trust, answers }) => {
  let user: TestUser;
  const ctx = useTestApp({ db: 'forwarded_for', env: { TRUST_PROXY: trust, COOKIE_SECURE: 'true' } });
  beforeAll(async () => {
    user = await createUser(ctx.app);
  });

  it.each(Object.entries(answers))('X-Forwarded-Proto: %s → sign-in %i', async (proto, status) => {
    const issued = await newAgent(ctx.app).get('/api/auth/csrf').set('X-Forwarded-Proto', proto).expect(200);
    const response = await newAgent(ctx.app)
      .post('/api/auth/login')
      .set('X-Forwarded-Proto', proto)
      .set(
        'Cookie',
        (issued.headers['set-cookie'] as unknown as string[]).map((cookie) => cookie.split(';')[0]),
      )
      .set('X-CSRF-Token', issued.body.token)
      .send({ email: user.email, password: user.password });
    expect(response.status).toBe(status);
    if (status === 403) expect(response.body.error.code).toBe('AUTH_1011');
  });
});
