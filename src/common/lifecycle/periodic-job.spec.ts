import { BACKGROUND_SHARE, PeriodicJob } from './periodic-job';

describe('PeriodicJob', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('keeps its interval while runs are quick, and backs off so a slow job keeps at most its share', () => {
    expect(PeriodicJob.delayAfter(20, 30_000)).toBe(30_000);
    const slow = PeriodicJob.delayAfter(6_000, 30_000);
    expect(6_000 / (6_000 + slow)).toBeCloseTo(BACKGROUND_SHARE);
  });

  it('runs one at a time, the next an interval after the last one finished, until stopped', async () => {
    const started: number[] = [];
    let finish: () => void = () => undefined;
    const job = new PeriodicJob(
      () => {
        started.push(Date.now());
        return new Promise<void>((resolve) => (finish = resolve));
      },
      1_000,
      () => undefined,
    );
    const t0 = Date.now();
    job.start();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(started).toEqual([t0 + 1_000]);
    await jest.advanceTimersByTimeAsync(10);
    finish();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(started).toEqual([t0 + 1_000, t0 + 2_010]);
    job.stop();
    finish();
    await jest.advanceTimersByTimeAsync(10_000);
    expect(started).toHaveLength(2);
  });

  it('waits longer after a slow run', async () => {
    const started: number[] = [];
    const job = new PeriodicJob(
      async () => {
        started.push(Date.now());
        if (started.length === 1) await new Promise((resolve) => setTimeout(resolve, 500));
      },
      1_000,
      () => undefined,
    );
    const t0 = Date.now();
    job.start();
    await jest.advanceTimersByTimeAsync(30_000);
    expect(started.slice(0, 2)).toEqual([t0 + 1_000, t0 + 1_500 + PeriodicJob.delayAfter(500, 1_000)]);
    job.stop();
  });

  it('reports a failed run and goes on', async () => {
    const failures: string[] = [];
    const job = new PeriodicJob(
      async () => {
        throw new Error('database down');
      },
      1_000,
      (error) => failures.push(error.message),
    );
    job.start();
    await jest.advanceTimersByTimeAsync(3_000);
    expect(failures).toEqual(['database down', 'database down', 'database down']);
    job.stop();
  });
});
