import type { NestExpressApplication } from '@nestjs/platform-express';
import { createHash } from 'node:crypto';
import { Agent, csrfToken, tokenOf } from './agents';
import { connectionOf } from './test-app';

/**
 * Holds the next call of `object[method]` until released: a step injected
 * between two writes, so another request can run in the gap.
 */
export function holdNextCall<T extends object>(object: T, method: keyof T & string) {
  let reached!: () => void;
  let release!: () => void;
  const arrived = new Promise<void>((resolve) => (reached = resolve));
  const gate = new Promise<void>((resolve) => (release = resolve));
  const original = (object[method] as (...args: unknown[]) => Promise<unknown>).bind(object);
  jest.spyOn(object, method as never).mockImplementationOnce((async (...args: unknown[]) => {
    reached();
    await gate;
    return original(...args);
  }) as never);
  return { arrived, release };
}

/** A state-changing request with a fresh CSRF token (fetched first: the agent attaches its cookies when a request is made). */
export async function send(agent: Agent, method: 'post' | 'patch' | 'delete', path: string, body: object = {}) {
  const token = await csrfToken(agent);
  return agent[method](path).set('X-CSRF-Token', token).send(body);
}

/** The public id (what `sessions` is keyed by) of a session cookie, `<name>=…`. */
export function publicIdOf(cookie: string): string {
  return createHash('sha256').update(tokenOf(cookie)).digest('hex');
}

export function eventsOf(app: NestExpressApplication, filter: Record<string, unknown>) {
  return connectionOf(app).collection('session_events').find(filter).toArray();
}
