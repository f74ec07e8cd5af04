import express from 'express';
import helmet from 'helmet';
import request from 'supertest';
import { helmetOptions } from '../../src/common/http/security-headers';
import { newAgent, sessionCookieName, setCookie } from '../helpers/agents';
import { useTestApp } from '../helpers/test-app';
import { createUser, TestUser } from '../helpers/users';

const ALLOWED = 'https://app.example';
const OTHER = 'https://evil.example';

describe('security headers, CORS and secure cookies', () => {
  let user: TestUser;

  const ctx = useTestApp({
    db: 'http_security',
    env: { CORS_ORIGINS: ALLOWED, COOKIE_SECURE: 'true', TRUST_PROXY: '1' },
  });
  beforeAll(async () => {
    user = await createUser(ctx.app);
  });

  it('sends a CSP that allows only self and no framing', async () => {
    const csp = (await newAgent(ctx.app).get('/login')).headers['content-security-policy'] as string;
    const directives = Object.fromEntries(
      csp
        .split(';')
        .map((d) => d.trim().split(/\s+/))
        .map(([k, ...v]) => [k, v.join(' ')]),
    );
    expect(directives).toMatchObject({
      'default-src': "'self'",
      'script-src': "'self'",
      'style-src': "'self'",
      'connect-src': "'self'",
      'form-action': "'self'",
      'frame-ancestors': "'none'",
    });
    expect(csp).not.toContain('unsafe-inline');
  });

  it('sends exactly the headers helmet sends for our options, on pages, JSON and errors', async () => {
    const reference = express().disable('x-powered-by');
    reference.use(helmet(helmetOptions(true)));
    reference.get('/', (_req, res) => void res.end());
    const transport = new Set(['date', 'connection', 'keep-alive', 'content-length']);
    const expected = Object.entries((await request(reference).get('/')).headers).filter(([name]) => !transport.has(name));
    expect(expected.length).toBeGreaterThan(10);
    for (const path of ['/login', '/health/live', '/api/auth/me', '/no-such-page']) {
      const ours = (await newAgent(ctx.app).get(path)).headers;
      expect(expected.filter(([name, value]) => ours[name] !== value)).toEqual([]);
    }
  });

  it('adds no CORS headers to a request without an Origin, and tells caches the answer depends on it', async () => {
    const response = await newAgent(ctx.app).get('/health/live').expect(200);
    expect(Object.keys(response.headers).filter((name) => name.startsWith('access-control-'))).toEqual([]);
    expect(response.headers.vary).toBe('Origin');
    // Without an Origin, OPTIONS is no preflight: no route answers it.
    await newAgent(ctx.app).options('/api/auth/login').set('Access-Control-Request-Method', 'POST').expect(404);
  });

  it('allows a configured origin with credentials and exposes the tracing headers', async () => {
    const response = await newAgent(ctx.app).get('/health/live').set('Origin', ALLOWED).expect(200);
    expect(response.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(response.headers['access-control-allow-credentials']).toBe('true');
    expect(response.headers['access-control-expose-headers']).toBe('X-Correlation-ID,X-Response-Time');
  });

  it('answers a preflight from a configured origin with max-age 86400', async () => {
    const response = await newAgent(ctx.app)
      .options('/api/auth/login')
      .set('Origin', ALLOWED)
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'content-type,x-csrf-token');
    expect(response.status).toBe(204);
    expect(response.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(response.headers['access-control-max-age']).toBe('86400');
  });

  it('gives another origin no Access-Control-Allow-Origin', async () => {
    const simple = await newAgent(ctx.app).get('/health/live').set('Origin', OTHER);
    expect(simple.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await newAgent(ctx.app).options('/api/auth/login').set('Origin', OTHER).set('Access-Control-Request-Method', 'POST');
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });

  /** Secure cookies are not replayed over plain HTTP by the agent: carry the CSRF cookie by hand, as HTTPS would. */
  async function httpsLogin(origin?: string) {
    const issued = await newAgent(ctx.app).get('/api/auth/csrf').set('X-Forwarded-Proto', 'https').expect(200);
    const csrfCookie = setCookie(issued.headers, '__Host-csrf')!;
    expect(csrfCookie.toLowerCase()).toContain('secure');
    const login = newAgent(ctx.app)
      .post('/api/auth/login')
      .set('X-Forwarded-Proto', 'https')
      .set('Cookie', csrfCookie.split(';')[0])
      .set('X-CSRF-Token', issued.body.token);
    if (origin) login.set('Origin', origin);
    return login.send({ email: user.email, password: user.password });
  }

  it('refuses a state-changing request from another origin even with a valid token', async () => {
    const forged = await httpsLogin(OTHER);
    expect(forged.status).toBe(403);
    expect(forged.body.error.code).toBe('AUTH_1008');
    expect(setCookie(forged.headers, sessionCookieName(ctx.app))).toBeUndefined();
    expect((await httpsLogin(ALLOWED)).status).toBe(200);
  });

  it('marks the session cookie Secure behind an HTTPS proxy when COOKIE_SECURE is true', async () => {
    const response = await httpsLogin();
    expect(response.status).toBe(200);
    const cookie = setCookie(response.headers, sessionCookieName(ctx.app))!;
    expect(cookie.split(';').map((part) => part.trim().toLowerCase())).toEqual(
      expect.arrayContaining(['secure', 'httponly', 'samesite=lax', 'path=/']),
    );
    expect(response.headers['strict-transport-security']).toBeDefined();
  });

  it('marks authenticated JSON no-store', async () => {
    const response = await newAgent(ctx.app).get('/api/auth/me');
    expect(response.headers['cache-control']).toBe('no-store, no-cache, must-revalidate, max-age=0');
  });
});
