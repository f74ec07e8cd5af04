import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Express } from 'express';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { newAgent, signIn } from '../helpers/agents';
import { createTestApp, destroyTestApp, uniqueDatabaseName } from '../helpers/test-app';
import { createUser } from '../helpers/users';

describe('the HTTP server', () => {
  let app: NestExpressApplication;

  beforeAll(async () => {
    app = await createTestApp({ db: uniqueDatabaseName('http_server') });
  });
  afterAll(() => destroyTestApp(app));

  /** The prototypes of the next request and response as the server made them, before Express saw them. */
  function nextPrototypesAsCreated(): Promise<[object, object]> {
    const server = app.getHttpServer() as Server;
    return new Promise((resolve) =>
      server.prependOnceListener('request', (req: IncomingMessage, res: ServerResponse) =>
        resolve([Object.getPrototypeOf(req) as object, Object.getPrototypeOf(res) as object]),
      ),
    );
  }

  it("creates requests and responses with Express's prototypes, so Express never swaps them", async () => {
    const created = nextPrototypesAsCreated();
    await newAgent(app).get('/health/live').expect(200);
    const [requestPrototype, responsePrototype] = await created;
    const express = app.getHttpAdapter().getInstance() as Express;
    expect(requestPrototype).toBe(express.request);
    expect(responsePrototype).toBe(express.response);
  });

  it('serves pages, JSON and a signed-in session through them', async () => {
    const user = await createUser(app);
    const agent = await signIn(app, user);
    const me = await agent.get('/api/auth/me').expect(200);
    expect(me.body.user.email).toBe(user.email);
    const page = await agent.get('/dashboard').expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    await agent.head('/health/live').expect(200);
  });
});
