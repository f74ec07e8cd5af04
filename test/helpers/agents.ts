import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { SessionHttpAdapter } from '../../src/session-http/session-http.adapter';
import type { TestUser } from './users';

export type Agent = TestAgent;

/** The session cookie's name as the app was configured: `__Host-session_token` with COOKIE_SECURE, `session_token` without. */
export function sessionCookieName(app: NestExpressApplication): string {
  return app.get(SessionHttpAdapter).cookieName;
}

/** A supertest agent that keeps cookies across requests, like a browser. */
export function newAgent(app: NestExpressApplication): Agent {
  return request.agent(app.getHttpServer());
}

/** A CSRF token for the agent's current session (fetch again after signing in or out). */
export async function csrfToken(agent: Agent): Promise<string> {
  const response = await agent.get('/api/auth/csrf').expect(200);
  return response.body.token as string;
}

/** A JSON POST with a fresh CSRF token, fetched first: the agent attaches its cookies when a request is created. */
export async function postJson(agent: Agent, path: string, body: object = {}) {
  const token = await csrfToken(agent);
  return agent.post(path).set('X-CSRF-Token', token).send(body);
}

/** A DELETE with a fresh CSRF token (see postJson). */
export async function deleteJson(agent: Agent, path: string) {
  const token = await csrfToken(agent);
  return agent.delete(path).set('X-CSRF-Token', token);
}

/** Signs in through the JSON API and returns the agent, now holding the session cookie. */
export async function signIn(app: NestExpressApplication, user: Pick<TestUser, 'email' | 'password'>, agent = newAgent(app)) {
  const token = await csrfToken(agent);
  await agent.post('/api/auth/login').set('X-CSRF-Token', token).send({ email: user.email, password: user.password }).expect(200);
  return agent;
}

/** A new agent whose requests say they come from `ip` (`X-Forwarded-For`, believed with TRUST_PROXY). */
export function agentFrom(app: NestExpressApplication, ip: string): Agent {
  return newAgent(app).set('X-Forwarded-For', ip);
}

/** One sign-in through the JSON API (a fresh CSRF token, then the POST), whatever it answers; signIn expects a 200. */
export async function attemptSignIn(agent: Agent, email: string, password: string) {
  const token = await csrfToken(agent);
  return agent.post('/api/auth/login').set('X-CSRF-Token', token).send({ email, password });
}

/** One sign-in attempt of a burst, from its own client address (`X-Forwarded-For`, with TRUST_PROXY). */
export interface SignInAttempt {
  email: string;
  password: string;
  ip: string;
}

/** Everything sent at once: one CSRF token per agent first, then all the sign-ins in parallel. */
export async function burstOfSignIns(app: NestExpressApplication, attempts: SignInAttempt[]) {
  const prepared = await Promise.all(
    attempts.map(async (attempt) => {
      const agent = newAgent(app).set('X-Forwarded-For', attempt.ip);
      return { agent, token: await csrfToken(agent), attempt };
    }),
  );
  return Promise.all(
    prepared.map(({ agent, token, attempt }) =>
      agent.post('/api/auth/login').set('X-CSRF-Token', token).send({ email: attempt.email, password: attempt.password }),
    ),
  );
}

/** The value of the named cookie in a response's Set-Cookie headers, with its attributes. */
export function setCookie(headers: Record<string, unknown>, name: string): string | undefined {
  const cookies = (headers['set-cookie'] as string[] | undefined) ?? [];
  return cookies.find((cookie) => cookie.startsWith(`${name}=`));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `name=value` of a cookie the agent sent with this response's request. */
export function sentCookie(response: { request: unknown }, name: string): string {
  const header = (response.request as { cookies?: string }).cookies ?? '';
  const cookie = header.split(/;\s*/).find((part) => part.startsWith(`${name}=`));
  if (!cookie) throw new Error(`the request carried no ${name} cookie`);
  return cookie;
}

/** The raw session token inside a signed session cookie, `<name>=s:<token>.<signature>` (any name). */
export function tokenOf(cookie: string): string {
  return decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1))
    .slice(2)
    .split('.')[0];
}
