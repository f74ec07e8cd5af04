import { csrfToken, newAgent, sessionCookieName, setCookie } from '../helpers/agents';
import { submitLoginForm } from '../helpers/forms';
import { useTestApp } from '../helpers/test-app';
import { captureLogs } from '../helpers/logs';
import { createUser, TestUser } from '../helpers/users';

describe('Secure cookies over a connection the app does not see as HTTPS', () => {
  let user: TestUser;
  const { destination, lines } = captureLogs();

  const ctx = useTestApp({
    db: 'plain_http',
    env: { COOKIE_SECURE: 'true', LOG_LEVEL: 'warn' },
    logDestination: destination,
  });
  beforeAll(async () => {
    user = await createUser(ctx.app);
  });

  async function jsonSignIn(forwardedProto?: string) {
    const agent = newAgent(ctx.app);
    if (forwardedProto) agent.set('X-Forwarded-Proto', forwardedProto);
    const token = await csrfToken(agent);
    return agent.post('/api/auth/login').set('X-CSRF-Token', token).send({ email: user.email, password: user.password });
  }

  it('refuses the sign-in with AUTH_1011 naming TRUST_PROXY and COOKIE_SECURE, instead of a 200 without a cookie', async () => {
    const response = await jsonSignIn();
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('AUTH_1011');
    expect(response.body.error.message).toMatch(/TRUST_PROXY/);
    expect(response.body.error.message).toMatch(/COOKIE_SECURE/);
    expect(setCookie(response.headers, sessionCookieName(ctx.app))).toBeUndefined();
  });

  it('does not believe X-Forwarded-Proto without TRUST_PROXY', async () => {
    expect((await jsonSignIn('https')).status).toBe(403);
  });

  it('refuses the form sign-in too, with the code on the page', async () => {
    const response = await submitLoginForm(newAgent(ctx.app), { email: user.email, password: user.password });
    expect(response.status).toBe(403);
    expect(response.text).toContain('AUTH_1011');
  });

  it('logs one warning that says what to fix, however many sign-ins are refused', () => {
    const warnings = lines().filter((line) => typeof line.msg === 'string' && line.msg.includes('Refused a sign-in over plain HTTP'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0].msg).toMatch(/TRUST_PROXY/);
  });
});
