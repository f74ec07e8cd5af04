import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from '../helpers/agents';
import { AppProcess, startAppProcess, startTimeouts } from '../helpers/app-process';
import { databaseUri, TEST_SESSION_SECRET, uniqueDatabaseName } from '../helpers/test-app';

/** Linux's scheduling policies as /proc/<pid>/task/<tid>/stat shows them (field 41). */
const SCHED_OTHER = 0;
const SCHED_IDLE = 5;

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

/** The app's threads once its log line says the pool is lowered (it answers /health/ready just before). */
async function threadsOnceLowered(app: AppProcess): Promise<Map<number, { nice: number; policy: number }>> {
  const until = Date.now() + LOG_WAIT_MS;
  while (!app.output().includes('at SCHED_IDLE') && Date.now() < until) await sleep(50);
  if (!app.output().includes('at SCHED_IDLE')) throw new Error(`the app never said what it did to its pool:\n${app.output()}`);
  return threadsOf(app.process.pid!);
}

function startApp(env: Record<string, string> = {}): Promise<AppProcess> {
  return startAppProcess({
    MONGODB_URI: databaseUri(uniqueDatabaseName('thread_priority')),
    SESSION_SECRET: TEST_SESSION_SECRET,
    LOG_LEVEL: 'info',
    ...env,
  });
}

describe('thread priority (src/main.ts)', () => {
  let app: AppProcess | undefined;
  afterEach(() => app?.stop());

  it(
    'puts libuv’s pool, where passwords are hashed, under SCHED_IDLE and nice 10; the thread that serves requests keeps its priority',
    async () => {
      app = await startApp();
      const pid = app.process.pid!;
      const threads = await threadsOnceLowered(app);
      const lowered = [...threads.values()].filter(({ nice }) => nice === 10);
      // The main thread (its id is the pid) and Node's own helpers keep their priority; only the pool is lowered.
      expect(threads.get(pid)).toEqual({ nice: 0, policy: SCHED_OTHER });
      expect(lowered.length).toBeGreaterThanOrEqual(1);
      expect(lowered.length).toBeLessThan(threads.size - 1);
      expect(lowered.every(({ policy }) => policy === SCHED_IDLE)).toBe(true);
      expect([...threads.values()].filter(({ policy }) => policy === SCHED_IDLE)).toHaveLength(lowered.length);
      expect(app.output()).toContain(`${lowered.length} pool threads at nice 10, ${lowered.length} at SCHED_IDLE`);
    },
    startTimeouts(1),
  );

  it(
    'keeps the pool at nice 10 where chrt cannot be found, and says so',
    async () => {
      // A PATH with nothing on it: the app itself needs no program from it.
      const emptyPath = mkdtempSync(join(tmpdir(), 'no-chrt-'));
      try {
        app = await startApp({ PATH: emptyPath });
        const threads = await threadsOnceLowered(app);
        const lowered = [...threads.values()].filter(({ nice }) => nice === 10);
        expect(lowered.length).toBeGreaterThanOrEqual(1);
        expect([...threads.values()].every(({ policy }) => policy === SCHED_OTHER)).toBe(true);
        expect(app.output()).toContain(`${lowered.length} pool threads at nice 10, 0 at SCHED_IDLE (chrt: spawn chrt ENOENT)`);
      } finally {
        rmSync(emptyPath, { recursive: true, force: true });
      }
    },
    startTimeouts(1),
  );
});
