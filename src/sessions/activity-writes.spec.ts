import { ActivityWrites } from './activity-writes';

describe('ActivityWrites', () => {
  it('lets one of a burst write, then the next one after the interval', () => {
    const sut = new ActivityWrites(1_000, 10);
    expect([0, 1, 2, 999].map((now) => sut.claim('a', now))).toEqual([true, false, false, false]);
    expect(sut.claim('b', 5)).toBe(true);
    expect(sut.claim('a', 1_000)).toBe(true);
  });

  it('lets the next request try again when a write failed', () => {
    const sut = new ActivityWrites(1_000, 10);
    sut.claim('a', 0);
    sut.release('a', 0);
    expect(sut.claim('a', 1)).toBe(true);
    sut.release('a', 0);
    expect(sut.claim('a', 2)).toBe(false);
  });

  it('keeps at most its bound, forgetting the oldest', () => {
    const sut = new ActivityWrites(1_000, 2);
    for (const id of ['a', 'b', 'c']) sut.claim(id, 0);
    expect([sut.claim('a', 1), sut.claim('c', 1)]).toEqual([true, false]);
  });
});
