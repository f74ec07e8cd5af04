import type { SessionDocument } from './session-document';
import { RecentSessionsCache } from './recent-sessions.cache';

const documentOf = (id: string, userId = 'u1') =>
  ({ _id: id, expires: new Date(), session: { userId, cookie: {} } }) as unknown as SessionDocument;

describe('RecentSessionsCache', () => {
  it('serves a document for its time to live, then asks again', () => {
    const sut = new RecentSessionsCache(1_000, 10);
    sut.set(documentOf('a'), 0);
    expect(sut.get('a', 999)?._id).toBe('a');
    expect(sut.get('a', 1_000)).toBeUndefined();
  });

  it('hands out copies: changing one never changes the cached session', () => {
    const sut = new RecentSessionsCache(1_000, 10);
    sut.set(documentOf('a'), 0);
    const copy = sut.get('a', 1)!;
    (copy.session as { userId: string }).userId = 'someone else';
    expect(sut.get('a', 2)?.session.userId).toBe('u1');
  });

  it('forgets a session, or all of a user’s, at once', () => {
    const sut = new RecentSessionsCache(1_000, 10);
    sut.set(documentOf('a'), 0);
    sut.set(documentOf('b', 'u2'), 0);
    sut.set(documentOf('c', 'u2'), 0);
    sut.forget('a');
    sut.forgetUser('u2');
    expect([sut.get('a', 1), sut.get('b', 1), sut.get('c', 1)]).toEqual([undefined, undefined, undefined]);
  });

  it('keeps at most its bound, dropping the oldest', () => {
    const sut = new RecentSessionsCache(1_000, 2);
    for (const id of ['a', 'b', 'c']) sut.set(documentOf(id), 0);
    expect([sut.get('a', 1), sut.get('b', 1)?._id, sut.get('c', 1)?._id]).toEqual([undefined, 'b', 'c']);
  });

  it('does not take back a session forgotten while it was being read', () => {
    const sut = new RecentSessionsCache(1_000, 10);
    sut.forget('a', 0);
    sut.set(documentOf('a'), 10);
    expect(sut.get('a', 11)).toBeUndefined();
    sut.forgetUser('u2', 0);
    sut.set(documentOf('b', 'u2'), 10);
    expect(sut.get('b', 11)).toBeUndefined();
    sut.set(documentOf('a'), 1_000);
    expect(sut.get('a', 1_001)?._id).toBe('a');
  });
});
