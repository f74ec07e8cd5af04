import type { NestExpressApplication } from '@nestjs/platform-express';
import { connectionOf, createTestApp, destroyTestApp, uniqueDatabaseName } from '../../test/helpers/test-app';
import { SessionsRepository } from './sessions.repository';
import { SessionsService } from './sessions.service';

const MINUTE_MS = 60_000;

/** No HTTP here: sessions ended by a job, an admin tool or a test, on a real database. */
describe('SessionsService', () => {
  let app: NestExpressApplication;
  let sut: SessionsService;
  let repository: SessionsRepository;

  beforeAll(async () => {
    app = await createTestApp({ db: uniqueDatabaseName('sessions_service') });
    sut = app.get(SessionsService);
    repository = app.get(SessionsRepository);
  });
  afterAll(() => destroyTestApp(app));

  let counter = 0;
  async function storedSession(userId: string): Promise<string> {
    const id = (++counter).toString(16).padStart(64, '0');
    const now = new Date();
    await repository.insert({
      _id: id,
      session: { userId, createdAt: now, lastActivityAt: now, ip: '', userAgent: '', cookie: {} } as never,
    });
    return id;
  }

  const events = (type: string, userId: string) => connectionOf(app).collection('session_events').countDocuments({ type, userId });

  it('expires a session once, however many callers try at the same moment', async () => {
    const id = await storedSession('user-a');
    const results = await Promise.all(
      Array.from({ length: 5 }, () => sut.expire({ id, userId: 'user-a', createdAt: new Date() }, 'inactivity')),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await repository.findById(id)).toBeNull();
    expect(await events('session.expired', 'user-a')).toBe(1);
  });

  it('revokes one session only for its owner when an owner is named', async () => {
    const id = await storedSession('user-b');
    expect(await sut.revoke(id, { by: 'user', actorId: 'someone-else', reason: 'user' }, 'someone-else')).toBe(false);
    expect(await sut.revoke(id, { by: 'user', actorId: 'user-b', reason: 'user' }, 'user-b')).toBe(true);
    expect(await sut.revoke(id, { by: 'user', actorId: 'user-b', reason: 'user' }, 'user-b')).toBe(false);
  });

  it('revokes all of a user’s sessions but one, recording each end once', async () => {
    const [kept, ...others] = await Promise.all([1, 2, 3].map(() => storedSession('user-c')));
    expect(await sut.revokeAllOfUser('user-c', { by: 'admin', actorId: 'admin-1', reason: 'admin' }, kept)).toBe(2);
    expect(await repository.findById(kept)).not.toBeNull();
    for (const id of others) expect(await repository.findById(id)).toBeNull();
    expect(await events('session.revoked', 'user-c')).toBe(2);
    expect(await sut.revokeAllOfUser('user-c', { by: 'admin', reason: 'admin' }, kept)).toBe(0);
  });

  it('reports the idle deadline no later than the absolute one, near the end of the lifetime', () => {
    // Signed in 155 minutes ago and active now: 15 more idle minutes would outlive the 160-minute lifetime.
    const now = Date.now();
    const createdAt = new Date(now - 155 * MINUTE_MS);
    const view = SessionsService.toView(sut.describe('x', { createdAt, lastActivityAt: new Date(now) }));
    expect(view.absoluteExpiresAt).toBe(new Date(createdAt.getTime() + 160 * MINUTE_MS).toISOString());
    expect(view.idleExpiresAt).toBe(view.absoluteExpiresAt);
  });
});
