import { csrfToken, newAgent } from '../helpers/agents';
import { connectionOf, useTestApp } from '../helpers/test-app';
import { createUser } from '../helpers/users';

const MAX_PER_IP = 3;

/** What the one trusted proxy appends: the address it saw, after whatever the client claimed. */
const throughProxy = (claimed: string, seenByProxy: string) => `${claimed}, ${seenByProxy}`;

describe('client IP behind one trusted proxy (TRUST_PROXY=1)', () => {
  const ctx = useTestApp({
    db: 'trusted_proxy',
    env: { TRUST_PROXY: '1', LOGIN_MAX_FAILURES_PER_IP: String(MAX_PER_IP), LOGIN_MAX_FAILURES: '100' },
  });

  async function signInVia(forwardedFor: string, email: string, password: string) {
    const agent = newAgent(ctx.app).set('X-Forwarded-For', forwardedFor);
    const token = await csrfToken(agent);
    const response = await agent.post('/api/auth/login').set('X-CSRF-Token', token).send({ email, password });
    return { agent, response };
  }

  it('locks the real client IP however the client varies the forged left-most entry', async () => {
    const user = await createUser(ctx.app);
    for (let i = 0; i < MAX_PER_IP; i++) {
      const { response } = await signInVia(throughProxy(`10.9.9.${i}`, '203.0.113.50'), user.email, 'wrong');
      expect(response.status).toBe(401);
    }
    const { response } = await signInVia(throughProxy('10.9.9.99', '203.0.113.50'), user.email, user.password);
    expect(response.status).toBe(429);
    expect((await signInVia(throughProxy('10.9.9.99', '203.0.113.51'), user.email, user.password)).response.status).toBe(200);
  });

  it('records the real client IP in events and device lists, never the forged one', async () => {
    const user = await createUser(ctx.app);
    await signInVia(throughProxy('6.6.6.6', '203.0.113.60'), user.email, 'wrong');
    const { agent, response } = await signInVia(throughProxy('7.7.7.7, 6.6.6.6', '203.0.113.61'), user.email, user.password);
    expect(response.status).toBe(200);

    const events = await connectionOf(ctx.app).collection('session_events').find({ userId: user.id }).toArray();
    expect(events.map((event) => [event.type, event.ip]).sort()).toEqual([
      ['login.failed', '203.0.113.60'],
      ['login.new_device', '203.0.113.61'],
      ['login.succeeded', '203.0.113.61'],
    ]);
    const devices = (await agent.get('/api/sessions').expect(200)).body;
    expect(devices.items.map((item: { ip: string }) => item.ip)).toEqual(['203.0.113.61']);
  });
});
