import type { ActiveSessionCount, ActiveSessionsGauge } from '../sessions/active-sessions-gauge.service';
import { ActiveSessionsNow } from './active-sessions-now';

/** A gauge whose count takes `countMs` and then finds `next` sessions. */
function fakeGauge(countMs: number, next: number) {
  let latest: ActiveSessionCount = { count: 1, countedAt: new Date(Date.now() - 60_000) };
  const gauge = {
    refreshes: 0,
    refresh: async () => {
      gauge.refreshes++;
      await new Promise((resolve) => setTimeout(resolve, countMs));
      latest = { count: next, countedAt: new Date() };
    },
    current: async () => latest,
  };
  return gauge;
}

describe('ActiveSessionsNow', () => {
  it('answers with a count made for the request when it comes quickly', async () => {
    const sut = new ActiveSessionsNow(fakeGauge(5, 7) as unknown as ActiveSessionsGauge);
    const started = Date.now();
    const { count, countedAt } = await sut.count();
    expect(count).toBe(7);
    expect(countedAt.getTime()).toBeGreaterThanOrEqual(started);
  });

  it('answers with the last count, and its time, rather than wait long for a slow one', async () => {
    const gauge = fakeGauge(1_000, 7);
    const sut = new ActiveSessionsNow(gauge as unknown as ActiveSessionsGauge);
    const started = Date.now();
    const { count, countedAt } = await sut.count();
    expect(Date.now() - started).toBeLessThan(900);
    expect(count).toBe(1);
    expect(countedAt.getTime()).toBeLessThan(started);
    // Requests meanwhile share the count under way rather than start their own.
    await Promise.all([sut.count(), sut.count()]);
    expect(gauge.refreshes).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect((await sut.count()).count).toBe(7);
  });
});
