import { SessionsRepository } from '../../src/sessions/sessions.repository';
import { newAgent, signIn } from '../helpers/agents';
import { eventsOf, send } from '../helpers/steps';
import { useTestApp } from '../helpers/test-app';
import { createUser } from '../helpers/users';

/** Sessions per batch, made small so that a sign-out of a few sessions takes several batches. */
const SHORT_BATCH = 2;
const BYSTANDERS = 6;

describe('emergency sign-out while its admin is taken away', () => {
  const ctx = useTestApp({ db: 'emergency_sign_out' });
  afterEach(() => jest.restoreAllMocks());

  const liveCount = async (agents: Awaited<ReturnType<typeof signIn>>[]) => {
    const answers = await Promise.all(agents.map((agent) => agent.get('/api/auth/me')));
    return answers.filter((answer) => answer.status === 200).length;
  };

  it('stops before the next batch once its admin is disabled (401), and its summary counts what it ended', async () => {
    const [x, y] = [await createUser(ctx.app, { role: 'admin' }), await createUser(ctx.app, { role: 'admin' })];
    const bystanders = await Promise.all(
      Array.from({ length: BYSTANDERS }, async () => signIn(ctx.app, await createUser(ctx.app), newAgent(ctx.app))),
    );
    const agentX = await signIn(ctx.app, x);

    // Batches of SHORT_BATCH; while the second is read, admin y (signed in only now, so no batch ended
    // y's session) disables x.
    const repository = ctx.app.get(SessionsRepository);
    const findActiveAfter = repository.findActiveAfter.bind(repository);
    let calls = 0;
    jest.spyOn(repository, 'findActiveAfter').mockImplementation(async (after) => {
      calls += 1;
      if (calls === 2) {
        const disabled = await send(await signIn(ctx.app, y), 'patch', `/api/admin/users/${x.id}`, { disabled: true });
        expect(disabled.status).toBe(200);
      }
      return findActiveAfter(after, SHORT_BATCH);
    });

    const response = await send(agentX, 'delete', '/api/admin/sessions');
    expect([response.status, response.body.error?.code]).toEqual([401, 'AUTH_1003']);
    expect(calls).toBe(2);

    const ended = await eventsOf(ctx.app, { type: 'session.revoked', reason: 'emergency', actorId: x.id });
    expect(ended.length).toBeGreaterThanOrEqual(1);
    expect(ended.length).toBeLessThanOrEqual(SHORT_BATCH);
    const [summary] = await eventsOf(ctx.app, { type: 'session.revoked_all', actorId: x.id });
    expect(summary).toMatchObject({ count: ended.length });
    expect(await liveCount(bystanders)).toBe(BYSTANDERS - ended.length);
  });

  it('an admin disabled before the first batch ends nothing and records no summary', async () => {
    const [x, y] = [await createUser(ctx.app, { role: 'admin' }), await createUser(ctx.app, { role: 'admin' })];
    const bystanders = await Promise.all(
      Array.from({ length: BYSTANDERS }, async () => signIn(ctx.app, await createUser(ctx.app), newAgent(ctx.app))),
    );
    const [agentX, agentY] = [await signIn(ctx.app, x), await signIn(ctx.app, y)];

    const repository = ctx.app.get(SessionsRepository);
    const findActiveAfter = repository.findActiveAfter.bind(repository);
    jest.spyOn(repository, 'findActiveAfter').mockImplementationOnce(async (after, limit) => {
      expect((await send(agentY, 'patch', `/api/admin/users/${x.id}`, { disabled: true })).status).toBe(200);
      return findActiveAfter(after, limit);
    });

    const response = await send(agentX, 'delete', '/api/admin/sessions');
    expect([response.status, response.body.error?.code]).toEqual([401, 'AUTH_1003']);
    expect(await eventsOf(ctx.app, { actorId: x.id, type: { $in: ['session.revoked', 'session.revoked_all'] } })).toEqual([]);
    expect(await liveCount(bystanders)).toBe(BYSTANDERS);
    await agentY.get('/api/auth/me').expect(200);
  });

  it('two sign-outs of one admin at once both stop once the admin is disabled, and each summary counts what it ended', async () => {
    const [x, y] = [await createUser(ctx.app, { role: 'admin' }), await createUser(ctx.app, { role: 'admin' })];
    const bystanders = await Promise.all(
      Array.from({ length: BYSTANDERS }, async () => signIn(ctx.app, await createUser(ctx.app), newAgent(ctx.app))),
    );
    const [agentX, agentY] = [await signIn(ctx.app, x), await signIn(ctx.app, y)];
    const liveBefore = await liveCount(bystanders);

    // Batches of SHORT_BATCH; the first batch read of either request waits for y's disable of x.
    const repository = ctx.app.get(SessionsRepository);
    const findActiveAfter = repository.findActiveAfter.bind(repository);
    let disabling: Promise<void> | undefined;
    jest.spyOn(repository, 'findActiveAfter').mockImplementation(async (after) => {
      disabling ??= send(agentY, 'patch', `/api/admin/users/${x.id}`, { disabled: true }).then((response) => {
        expect(response.status).toBe(200);
      });
      await disabling;
      return findActiveAfter(after, SHORT_BATCH);
    });

    const responses = await Promise.all([send(agentX, 'delete', '/api/admin/sessions'), send(agentX, 'delete', '/api/admin/sessions')]);
    expect(responses.map((response) => [response.status, response.body.error?.code])).toEqual([
      [401, 'AUTH_1003'],
      [401, 'AUTH_1003'],
    ]);
    const ended = await eventsOf(ctx.app, { type: 'session.revoked', reason: 'emergency', actorId: x.id });
    const summaries = await eventsOf(ctx.app, { type: 'session.revoked_all', actorId: x.id });
    expect(summaries.reduce((sum, summary) => sum + (summary.count as number), 0)).toBe(ended.length);
    expect(ended).toEqual([]);
    expect(await liveCount(bystanders)).toBe(liveBefore);
    await agentY.get('/api/auth/me').expect(200);
  });
});
