import { once } from 'node:events';
import { AddressInfo, connect } from 'node:net';
import { csrfToken, newAgent, sentCookie, signIn, sleep, tokenOf } from '../helpers/agents';
import { useTestApp } from '../helpers/test-app';
import { captureLogs } from '../helpers/logs';
import { createUser, TestUser } from '../helpers/users';

describe('structured logs', () => {
  let user: TestUser;
  const { destination, raw, lines } = captureLogs();

  const ctx = useTestApp({
    db: 'logging',
    env: { LOG_LEVEL: 'info', SESSION_INACTIVITY_MINUTES: '0.02' },
    logDestination: destination,
  });
  beforeAll(async () => {
    user = await createUser(ctx.app);
  });

  it('writes one line per request with method, path, status, duration, correlation and user ids', async () => {
    const agent = await signIn(ctx.app, user);
    await agent.get('/api/auth/me?x=1').set('X-Correlation-ID', 'log-test-1').expect(200);
    await sleep(50);
    const requestLines = lines().filter((line) => line.correlationId === 'log-test-1' && line.res);
    expect(requestLines).toHaveLength(1);
    expect(requestLines[0]).toMatchObject({
      req: { method: 'GET', path: '/api/auth/me' },
      res: { statusCode: 200 },
      responseTime: expect.any(Number),
      userId: user.id,
    });
  });

  it('logs session events naming the session by a short hash, never by its token', async () => {
    const agent = await signIn(ctx.app, user);
    const token = tokenOf(sentCookie(await agent.get('/api/auth/me').expect(200), 'session_token'));
    const csrf = await csrfToken(agent);
    await agent.post('/api/auth/logout').set('X-CSRF-Token', csrf).expect(204);
    const expiring = await signIn(ctx.app, user);
    await sleep(1_500);
    await expiring.get('/api/auth/me').expect(401);
    await sleep(50);

    const events = lines().filter((line) => typeof line.event === 'string');
    expect(events.map((line) => line.event)).toEqual(expect.arrayContaining(['session.created', 'session.destroyed', 'session.expired']));
    expect(events.find((line) => line.event === 'session.expired')).toMatchObject({ reason: 'inactivity', userId: user.id });
    for (const event of events) expect(event.session).toMatch(/^[0-9a-f]{12}$/);
    expect(raw.join('\n')).not.toContain(token);
  });

  it('never logs passwords, cookies or CSRF tokens', async () => {
    const agent = newAgent(ctx.app);
    const csrf = await csrfToken(agent);
    await agent.post('/api/auth/login').set('X-CSRF-Token', csrf).send({ email: user.email, password: 'wrong-but-secret-42' });
    await signIn(ctx.app, user);
    await sleep(50);
    const all = raw.join('\n');
    expect(all).not.toContain('wrong-but-secret-42');
    expect(all).not.toContain(user.password);
    expect(all).not.toContain(csrf);
    expect(all).not.toMatch(/session_token=|s%3A/);
  });

  it('gives a body the parser refuses its correlation id, response time and line', async () => {
    const response = await newAgent(ctx.app)
      .post('/api/auth/login')
      .set('X-Correlation-ID', 'refused-body-1')
      .set('Content-Type', 'application/json')
      .send('{"email": ');
    expect(response.status).toBe(400);
    expect(response.headers['x-correlation-id']).toBe('refused-body-1');
    expect(response.headers['x-response-time']).toMatch(/^\d+$/);
    await sleep(50);
    const requestLines = lines().filter((line) => line.correlationId === 'refused-body-1' && line.res);
    expect(requestLines).toEqual([expect.objectContaining({ res: { statusCode: 400 }, req: { method: 'POST', path: '/api/auth/login' } })]);
  });

  it('logs a request the client abandoned before the answer, with its correlation id', async () => {
    await ctx.app.listen(0, '127.0.0.1');
    const { port } = ctx.app.getHttpServer().address() as AddressInfo;
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    // Headers and half a body, then the client goes away.
    socket.write(
      'POST /api/auth/login HTTP/1.1\r\nHost: x\r\nX-Correlation-ID: abandoned-1\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{"em',
    );
    await sleep(100);
    socket.destroy();
    await sleep(100);
    const line = lines().find((entry) => entry.correlationId === 'abandoned-1');
    expect(line).toMatchObject({ level: 40, req: { method: 'POST', path: '/api/auth/login' } });
    expect(line?.msg).toMatch(/aborted by the client/);
  });
});
