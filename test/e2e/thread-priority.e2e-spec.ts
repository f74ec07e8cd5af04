import { readdirSync, readFileSync } from 'node:fs';
import { sleep } from '../helpers/agents';
import { AppProcess, startAppProcess, startTimeouts } from '../helpers/app-process';
import { databaseUri, TEST_SESSION_SECRET, uniqueDatabaseName } from '../helpers/test-app';

/** Each thread of a process and its niceness (/proc/<pid>/task/<tid>/stat, field 19). */
function nicenessOfThreads(pid: number): Map<number, number> {
  const threads = new Map<number, number>();
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const fields = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8').split(') ')[1].split(' ');
    threads.set(Number(task), Number(fields[16]));
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

  it('lowers libuv’s pool, where passwords are hashed, below the thread that serves requests', async () => {
    // The app answers /health/ready once it listens, and lowers the pool just after: its log line says when that is done.
    const until = Date.now() + LOG_WAIT_MS;
    while (!app.output().includes('pool threads at nice') && Date.now() < until) await sleep(50);
    const pid = app.process.pid!;
    const threads = nicenessOfThreads(pid);
    const lowered = [...threads].filter(([, nice]) => nice === 10);
    // The main thread (its id is the pid) and Node's own helpers keep their priority; only the pool is lowered.
    expect(threads.get(pid)).toBe(0);
    expect(lowered.length).toBeGreaterThanOrEqual(1);
    expect(lowered.length).toBeLessThan(threads.size - 1);
    expect(app.output()).toContain(`${lowered.length} pool threads at nice 10`);
  });
});
