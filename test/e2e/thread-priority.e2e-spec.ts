import { readdirSync, readFileSync } from 'node:fs';
import { sleep } from '../helpers/agents';
import { AppProcess, startAppProcess, startTimeouts } from '../helpers/app-process';
import { databaseUri, TEST_SESSION_SECRET, uniqueDatabaseName } from '../helpers/test-app';

/** Linux's default scheduling policy, as /proc/<pid>/task/<tid>/stat shows it (field 41). */
const SCHED_OTHER = 0;

/** Each thread of a process: its niceness (stat field 19) and its scheduling policy (field 41). */
function threadsOf(pid: number): Map<number, { nice: number; policy: number }> {
  const threads = new Map<number, { nice: number; policy: number }>();
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const fields = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8').split(') ')[1].split(' ');
    threads.set(Number(task), { nice: Number(fields[16]), policy: Number(fields[38]) });
  }
  return threads;
}

const LOG_WAIT_MS = 10_000;

describe('thread priority (src/main.ts)', () => {
  let app: AppProcess;
  beforeAll(async () => {
    app = await startAppProcess({
      MONGODB_URI: databaseUri(uniqueDatabaseName('thread_priority')),
      SESSION_SECRET: TEST_SESSION_SECRET,
      LOG_LEVEL: 'info',
    });
  }, startTimeouts(1));
  afterAll(() => app?.stop());

  it('lowers libuv’s pool, where passwords are hashed, to nice 10; the thread that serves requests keeps its priority', async () => {
    // The app answers /health/ready once it listens, and logs what it did to its pool just after.
    const until = Date.now() + LOG_WAIT_MS;
    while (!app.output().includes('pool threads at nice') && Date.now() < until) await sleep(50);
    if (!app.output().includes('pool threads at nice')) throw new Error(`the app never said what it did to its pool:\n${app.output()}`);
    const pid = app.process.pid!;
    const threads = threadsOf(pid);
    const lowered = [...threads.values()].filter(({ nice }) => nice === 10);
    // The main thread (its id is the pid) and Node's own helpers keep their priority; only the pool is lowered.
    expect(threads.get(pid)).toEqual({ nice: 0, policy: SCHED_OTHER });
    expect(lowered.length).toBeGreaterThanOrEqual(1);
    expect(lowered.length).toBeLessThan(threads.size - 1);
    // A niceness, not SCHED_IDLE: under that policy a busy neighbour leaves the hashes next to nothing.
    expect([...threads.values()].every(({ policy }) => policy === SCHED_OTHER)).toBe(true);
    expect(app.output()).toContain(`${lowered.length} pool threads at nice 10`);
  });
});
