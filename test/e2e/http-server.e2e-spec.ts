import type { Express } from 'express';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import request from 'supertest';
import { newAgent, signIn } from '../helpers/agents';
import { useTestApp } from '../helpers/test-app';
import { createUser } from '../helpers/users';

describe('the HTTP server', () => {
  const ctx = useTestApp({ db: 'http_server' });

  /** The prototypes of the next request and response as the server made them, before Express saw them. */
  function nextPrototypesAsCreated(): Promise<[object, object]> {
    const server = ctx.app.getHttpServer() as Server;
    return new Promise((resolve) =>
      server.prependOnceListener('request', (req: IncomingMessage, res: ServerResponse) =>
        resolve([Object.getPrototypeOf(req) as object, Object.getPrototypeOf(res) as object]),
      ),
    );
  }

  it("creates requests and responses with Express's prototypes, so Express never swaps them", async () => {
    const created = nextPrototypesAsCreated();
    await newAgent(ctx.app).get('/health/live').expect(200);
    const [requestPrototype, responsePrototype] = await created;
    const express = ctx.app.getHttpAdapter().getInstance() as Express;
    expect(requestPrototype).toBe(express.request);
    expect(responsePrototype).toBe(express.response);
  });

  it('serves pages, JSON and a signed-in session through them', async () => {
    const user = await createUser(ctx.app);
    const agent = await signIn(ctx.app, user);
    const me = await agent.get('/api/auth/me').expect(200);
    expect(me.body.user.email).toBe(user.email);
    const page = await agent.get('/dashboard').expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    await agent.head('/health/live').expect(200);
  });

  it('keeps each request to itself in a burst where they all share shapes', async () => {
    const [alice, bob] = [await createUser(ctx.app), await createUser(ctx.app)];
    const agents = { alice: await signIn(ctx.app, alice), bob: await signIn(ctx.app, bob) };
    const server = ctx.app.getHttpServer();
    const burst = Array.from({ length: 40 }, (_, i) => {
      const correlationId = `burst-${i}`;
      const kind = (['alice', 'bob', 'anonymous', 'tampered'] as const)[i % 4];
      const sent =
        kind === 'alice' || kind === 'bob'
          ? agents[kind].get('/api/auth/me')
          : request(server)
              .get('/api/auth/me')
              .set('Cookie', kind === 'tampered' ? 'session_token=s:forged.signature' : 'csrf=x');
      return sent
        .set('X-Correlation-ID', correlationId)
        .set('X-Forwarded-For', `203.0.113.${i}`)
        .then((response) => ({ kind, correlationId, response }));
    });
    for (const { kind, correlationId, response } of await Promise.all(burst)) {
      expect(response.headers['x-correlation-id']).toBe(correlationId);
      expect(response.headers['x-response-time']).toMatch(/^\d+$/);
      if (kind === 'alice' || kind === 'bob') {
        expect(response.status).toBe(200);
        expect(response.body.user.email).toBe((kind === 'alice' ? alice : bob).email);
      } else {
        expect(response.status).toBe(401);
        expect(response.body.error.code).toBe(kind === 'tampered' ? 'AUTH_1003' : 'AUTH_1004');
        expect(response.body.user).toBeUndefined();
      }
    }
  });
});
