import { burstOfSignIns, newAgent, sleep } from '../helpers/agents';
import { watchCommands } from '../helpers/commands';
import { formCsrfToken } from '../helpers/forms';
import { metricValue } from '../helpers/metrics';
import { connectionOf, useTestApp } from '../helpers/test-app';
import { createUser, TestUser } from '../helpers/users';

/**
 * Load shedding: one hash at a time and two waiting (production hashing, so
 * each check takes tens of milliseconds), and bursts far beyond that.
 */
const PLACES = 1 + 2;
const BURST = 12;
let nextIp = 1;
const freshIp = () => `203.0.113.${nextIp++}`;

describe('a storm of sign-ins', () => {
  const ctx = useTestApp({
    db: 'sign_in_storm',
    realPasswordHashing: true,
    env: { TRUST_PROXY: '1', PASSWORD_HASH_CONCURRENCY: '1', SIGN_IN_QUEUE_MAX: '2' },
  });

  /** One after another: creating an account hashes its password through the same queue. */
  async function users(): Promise<TestUser[]> {
    const list: TestUser[] = [];
    for (let i = 0; i < BURST; i++) list.push(await createUser(ctx.app));
    return list;
  }
  const attempts = (list: TestUser[]) => list.map((user) => ({ email: user.email, password: user.password, ip: freshIp() }));

  it('sheds a burst beyond the queue at once: 503 SYS_9003 with Retry-After, no database work, nothing counted, nothing lost', async () => {
    const list = await users();
    const shedBefore = await metricValue(ctx.app, 'sign_ins_shed_total');
    const commands = watchCommands(ctx.app);
    const responses = await burstOfSignIns(ctx.app, attempts(list));
    commands.stop();

    const signedIn = responses.filter((response) => response.status === 200);
    const shed = responses.filter((response) => response.status === 503);
    expect(signedIn.length + shed.length).toBe(BURST);
    expect(signedIn.length).toBeGreaterThanOrEqual(PLACES);
    expect(shed.length).toBeGreaterThan(0);
    for (const response of shed) {
      expect(response.body.error.code).toBe('SYS_9003');
      expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(response.headers['set-cookie'] ?? []).not.toEqual(expect.arrayContaining([expect.stringMatching(/^session_token=/)]));
    }
    // A refused sign-in did no database work: each command below belongs to a sign-in that got in.
    const seen = commands.seen();
    expect(seen.filter((command) => command === 'insert sessions')).toHaveLength(signedIn.length);
    expect(seen.filter((command) => command === 'update login_failures')).toHaveLength(2 * signedIn.length);
    expect(seen.filter((command) => command === 'find users')).toHaveLength(2 * signedIn.length);
    expect(await metricValue(ctx.app, 'sign_ins_shed_total')).toBe(shedBefore + shed.length);
    expect(await metricValue(ctx.app, 'sign_in_queue_depth')).toBe(0);

    // Nothing was counted against the refused accounts, and each gets in when it tries again.
    const refused = list.filter((_, i) => responses[i].status === 503);
    const counters = await connectionOf(ctx.app)
      .collection('login_failures')
      .countDocuments({ points: { $gt: 0 } });
    expect(counters).toBe(0);
    await sleep(Math.max(...shed.map((response) => Number(response.headers['retry-after']))) * 1000);
    for (const user of refused) {
      const [retried] = await burstOfSignIns(ctx.app, attempts([user]));
      expect(retried.status).toBe(200);
    }
  });

  it('shows the busy message on the sign-in form, with 503 and Retry-After, keeping the email typed', async () => {
    const list = await users();
    const forms = await Promise.all(
      list.map(async (user) => {
        const agent = newAgent(ctx.app).set('X-Forwarded-For', freshIp());
        const page = await agent.get('/login').expect(200);
        return { agent, user, csrf: formCsrfToken(page.text) };
      }),
    );
    const responses = await Promise.all(
      forms.map(({ agent, user, csrf }) =>
        agent.post('/login').type('form').send({ email: user.email, password: user.password, _csrf: csrf }),
      ),
    );
    const busy = responses.filter((response) => response.status === 503);
    expect(busy.length).toBeGreaterThan(0);
    for (const response of busy) {
      expect(response.headers['content-type']).toMatch(/text\/html/);
      expect(response.headers['retry-after']).toMatch(/^[1-9]\d*$/);
      expect(response.text).toContain('Too many people are signing in right now');
    }
    expect(responses.every((response) => response.status === 503 || response.status === 303)).toBe(true);
  });

  it('counts the hashes in password_hash_duration_seconds', async () => {
    expect(await metricValue(ctx.app, 'password_hash_duration_seconds_count')).toBeGreaterThan(0);
  });
});
