import { Types } from 'mongoose';
import { connectionOf, useTestApp } from '../../test/helpers/test-app';
import { SessionsRepository } from './sessions.repository';
import { SessionsService } from './sessions.service';

const MINUTE_MS = 60_000;

/** No HTTP here: sessions ended by a job, an admin tool or a test, on a real database. */
describe('SessionsService', () => {
  let sut: SessionsService;
  let repository: SessionsRepository;

  const ctx = useTestApp({ db: 'sessions_service' });
  beforeAll(async () => {
    sut = ctx.app.get(SessionsService);
    repository = ctx.app.get(SessionsRepository);
  });

  let counter = 0;
  /** A stored session, last active `idleMinutes` ago (past the 15-minute idle deadline from 15 on). */
  async function storedSession(
    userId: string,
    { idleMinutes = 0, stamp = 'stamp-1' as string | null, movedFrom = undefined as string | undefined } = {},
  ): Promise<string> {
    const id = (++counter).toString(16).padStart(64, '0');
    const at = new Date(Date.now() - idleMinutes * MINUTE_MS);
    const stamps = { ...(stamp === null ? {} : { stamp }), ...(movedFrom === undefined ? {} : { movedFrom }) };
    await repository.insert({
      _id: id,
      session: { userId, ...stamps, createdAt: at, lastActivityAt: at, ip: '', userAgent: '', cookie: {} } as never,
    });
    return id;
  }

  const events = (type: string, userId: string) => connectionOf(ctx.app).collection('session_events').countDocuments({ type, userId });

  it('expires a session once, however many callers try at the same moment', async () => {
    const id = await storedSession('user-a', { idleMinutes: 16 });
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

  it('never expires a session the database counts live, unless told its stored deadline is still ahead', async () => {
    const id = await storedSession('user-d');
    expect(await sut.expire({ id, userId: 'user-d' }, 'inactivity')).toBe(false);
    expect(await repository.findById(id)).not.toBeNull();
    expect(await events('session.expired', 'user-d')).toBe(0);
    // Shorter windows than it was stored under: ended as a live session, recorded once.
    expect(await sut.expire({ id, userId: 'user-d' }, 'inactivity', { liveInStore: true })).toBe(true);
    expect(await sut.expire({ id, userId: 'user-d' }, 'inactivity', { liveInStore: true })).toBe(false);
    expect(await events('session.expired', 'user-d')).toBe(1);
  });

  it('keeps a session the expiry pass ended ended: a late activity write changes nothing, a revoke records nothing', async () => {
    const id = await storedSession('user-e', { idleMinutes: 16 });
    const session = { id, userId: 'user-e' };
    expect(await sut.endPastDeadline([{ session, reason: 'inactivity' }])).toBe(1);
    expect(await repository.recordActivity(id, new Date(), new Date())).toBe(false);
    expect((await repository.findById(id))?.session).toMatchObject({ endedReason: 'inactivity' });
    expect(await sut.revoke(id, { by: 'admin', actorId: 'admin-1', reason: 'admin' })).toBe(false);
    expect(await sut.endPastDeadline([{ session, reason: 'inactivity' }])).toBe(0);
    expect(await events('session.expired', 'user-e')).toBe(1);
    expect(await events('session.revoked', 'user-e')).toBe(0);
  });

  it('counts a live session live when two activity writes carry the same moment (the second changes nothing)', async () => {
    const id = await storedSession('user-same-moment');
    const createdAt = (await repository.findById(id))!.session.createdAt;
    const at = new Date();
    expect(await repository.recordActivity(id, new Date(createdAt), at)).toBe(true);
    expect(await repository.recordActivity(id, new Date(createdAt), at)).toBe(true);
  });

  it('records each session once when expiry passes race over the same batch', async () => {
    const ids = await Promise.all(Array.from({ length: 20 }, () => storedSession('user-g', { idleMinutes: 16 })));
    const due = ids.map((id) => ({ session: { id, userId: 'user-g' }, reason: 'inactivity' as const }));
    const ended = await Promise.all([sut.endPastDeadline(due), sut.endPastDeadline(due), sut.endPastDeadline(due.slice(5))]);
    expect(ended.reduce((sum, count) => sum + count, 0)).toBe(20);
    expect(await events('session.expired', 'user-g')).toBe(20);
  });

  it('ends only the sessions issued under another credential stamp', async () => {
    const [old, current] = [await storedSession('user-f', { stamp: 'old' }), await storedSession('user-f', { stamp: 'new' })];
    expect(await sut.revokeStale('user-f', 'new', { by: 'system', reason: 'stale_credentials' })).toBe(1);
    expect(await repository.findById(old)).toBeNull();
    expect(await repository.findById(current)).not.toBeNull();
    expect(await sut.revokeStale('user-f', 'new', { by: 'system', reason: 'stale_credentials' })).toBe(0);
  });

  it('ends, before a change from a stamp is saved, only the sessions still under it: not those other changes from it moved ahead', async () => {
    const revoker = { by: 'user', actorId: 'user-h', reason: 'password_changed' } as const;
    const changer = await storedSession('user-h', { stamp: 'mine', movedFrom: 'proved' });
    const under = await storedSession('user-h', { stamp: 'proved' });
    const otherChange = await storedSession('user-h', { stamp: 'theirs', movedFrom: 'proved' });
    const older = await storedSession('user-h', { stamp: 'older' });
    expect(await sut.revokeUnder('user-h', 'proved', revoker, changer)).toBe(1);
    expect(await repository.findById(under)).toBeNull();
    for (const id of [changer, otherChange, older]) expect(await repository.findById(id)).not.toBeNull();
    // The empty stamp is a session from before stamps, stored without one.
    const unstamped = await storedSession('user-h', { stamp: null });
    expect(await sut.revokeUnder('user-h', '', revoker, changer)).toBe(1);
    expect(await repository.findById(unstamped)).toBeNull();
  });

  it('ends, after a change was saved, what the account’s changes left behind: sessions under a listed stamp and those of changes that lost', async () => {
    const users = connectionOf(ctx.app).collection('users');
    const userId = new Types.ObjectId();
    await users.insertOne({ _id: userId, email: 'left-behind@example.test', credentialStamp: 'won', staleStamps: ['proved', 'older'] });
    const user = String(userId);
    const revoker = { by: 'user', actorId: user, reason: 'password_changed' } as const;
    const changer = await storedSession(user, { stamp: 'won', movedFrom: 'proved' });
    const raced = await storedSession(user, { stamp: 'proved' });
    const lost = await storedSession(user, { stamp: 'lost', movedFrom: 'proved' });
    const older = await storedSession(user, { stamp: 'older' });
    const next = await storedSession(user, { stamp: 'won' });
    const nextChange = await storedSession(user, { stamp: 'after', movedFrom: 'won' });
    expect(await sut.revokeLeftBehind(user, revoker, { id: changer, stamp: 'won' })).toBe(3);
    for (const id of [raced, lost, older]) expect(await repository.findById(id)).toBeNull();
    for (const id of [changer, next, nextChange]) expect(await repository.findById(id)).not.toBeNull();
    expect((await users.findOne({ _id: userId }))?.staleStamps).toEqual([]);
  });

  it('does not spare the changer’s session once a later change replaced the stamp it saved', async () => {
    const users = connectionOf(ctx.app).collection('users');
    const userId = new Types.ObjectId();
    await users.insertOne({ _id: userId, email: 'replaced-since@example.test', credentialStamp: 'admin', staleStamps: ['proved', 'won'] });
    const user = String(userId);
    const changer = await storedSession(user, { stamp: 'won', movedFrom: 'proved' });
    const revoker = { by: 'user', actorId: user, reason: 'password_changed' } as const;
    expect(await sut.revokeLeftBehind(user, revoker, { id: changer, stamp: 'won' })).toBe(1);
    expect(await repository.findById(changer)).toBeNull();
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
