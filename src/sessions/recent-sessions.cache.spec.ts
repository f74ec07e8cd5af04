import type { SessionDocument } from './session-document';
import { RecentSessionsCache } from './recent-sessions.cache';

const documentOf = (id: string, userId = 'u1') =>
  ({ _id: id, expires: new Date(), session: { userId, cookie: {} } }) as unknown as SessionDocument;

/** A database stand-in: counts reads and answers each when told to (or at once with `instant`). */
function fakeDatabase(stored: SessionDocument[] = []) {
  const pending: Array<() => void> = [];
  let reads = 0;
  let instant = true;
  const load = (id: string) => {
    reads++;
    const answer = stored.find((document) => document._id === id) ?? null;
    if (instant) return Promise.resolve(answer);
    return new Promise<SessionDocument | null>((resolve) => pending.push(() => resolve(answer)));
  };
  return {
    load,
    reads: () => reads,
    holdAnswers: () => void (instant = false),
    answerAll: () => pending.splice(0).forEach((answer) => answer()),
    stored,
  };
}

describe('RecentSessionsCache', () => {
  let time = 0;
  const clock = () => time;
  beforeEach(() => (time = 0));

  it('serves a document for its time to live, then reads again', async () => {
    const db = fakeDatabase([documentOf('a')]);
    const sut = new RecentSessionsCache(1_000, 10, clock);
    await sut.read('a', db.load);
    time = 999;
    expect((await sut.read('a', db.load))?._id).toBe('a');
    expect(db.reads()).toBe(1);
    time = 1_000;
    await sut.read('a', db.load);
    expect(db.reads()).toBe(2);
  });

  it('hands out copies: changing one never changes the cached session', async () => {
    const sut = new RecentSessionsCache(1_000, 10, clock);
    const db = fakeDatabase([documentOf('a')]);
    const copy = (await sut.read('a', db.load))!;
    (copy.session as { userId: string }).userId = 'someone else';
    expect((await sut.read('a', db.load))?.session.userId).toBe('u1');
  });

  it('forgets a session, or all of a user’s, or everything, at once', async () => {
    const db = fakeDatabase([documentOf('a'), documentOf('b', 'u2'), documentOf('c', 'u2'), documentOf('d')]);
    const sut = new RecentSessionsCache(1_000, 10, clock);
    for (const id of ['a', 'b', 'c', 'd']) await sut.read(id, db.load);
    sut.forget('a');
    sut.forgetUser('u2');
    for (const id of ['a', 'b', 'c', 'd']) await sut.read(id, db.load);
    expect(db.reads()).toBe(4 + 3);
    sut.forgetAll();
    await sut.read('d', db.load);
    expect(db.reads()).toBe(8);
  });

  it('keeps at most its bound, dropping the oldest', async () => {
    const db = fakeDatabase([documentOf('a'), documentOf('b'), documentOf('c')]);
    const sut = new RecentSessionsCache(1_000, 2, clock);
    for (const id of ['a', 'b', 'c']) await sut.read(id, db.load);
    for (const id of ['b', 'c']) await sut.read(id, db.load);
    expect(db.reads()).toBe(3);
    await sut.read('a', db.load);
    expect(db.reads()).toBe(4);
  });

  it('shares one read among requests that miss together, each getting its own copy', async () => {
    const db = fakeDatabase([documentOf('a')]);
    db.holdAnswers();
    const sut = new RecentSessionsCache(1_000, 10, clock);
    const burst = Promise.all(Array.from({ length: 20 }, () => sut.read('a', db.load)));
    db.answerAll();
    const documents = await burst;
    expect(db.reads()).toBe(1);
    expect(new Set(documents.map((document) => document?.session)).size).toBe(20);
  });

  it('neither joins nor keeps a read that was under way when the session was forgotten', async () => {
    const db = fakeDatabase([documentOf('a')]);
    db.holdAnswers();
    const sut = new RecentSessionsCache(1_000, 10, clock);
    const before = sut.read('a', db.load);
    sut.forget('a');
    const after = sut.read('a', db.load);
    expect(db.reads()).toBe(2);
    db.answerAll();
    await Promise.all([before, after]);
    // `after` began once the change was made: its answer is kept.
    await sut.read('a', db.load);
    expect(db.reads()).toBe(2);
  });

  it('keeps no read that was under way when a user’s sessions, or all, were forgotten', async () => {
    const db = fakeDatabase([documentOf('a', 'u2'), documentOf('b')]);
    db.holdAnswers();
    const sut = new RecentSessionsCache(1_000, 10, clock);
    const ofUser = sut.read('a', db.load);
    sut.forgetUser('u2');
    const ofAnyone = sut.read('b', db.load);
    sut.forgetAll();
    db.answerAll();
    await Promise.all([ofUser, ofAnyone]);
    const again = Promise.all([sut.read('a', db.load), sut.read('b', db.load)]);
    db.answerAll();
    await again;
    expect(db.reads()).toBe(4);
  });

  it('passes a failed read on to everyone waiting, and keeps nothing of it', async () => {
    const sut = new RecentSessionsCache(1_000, 10, clock);
    let loads = 0;
    const failing = () => {
      loads++;
      return Promise.reject(new Error('down'));
    };
    const results = await Promise.allSettled([sut.read('a', failing), sut.read('a', failing)]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect(loads).toBe(1);
    await expect(sut.read('a', async () => documentOf('a'))).resolves.toMatchObject({ _id: 'a' });
  });

  it('reads every time when its time to live is zero', async () => {
    const db = fakeDatabase([documentOf('a')]);
    const sut = new RecentSessionsCache(0, 10, clock);
    await Promise.all([sut.read('a', db.load), sut.read('a', db.load)]);
    expect(db.reads()).toBe(2);
  });
});
