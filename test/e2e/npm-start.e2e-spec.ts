import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { connect, Socket } from 'node:net';
import { setCookie, sleep } from '../helpers/agents';
import { ensureBuilt, NpmRun, projectCopy, startNpm } from '../helpers/npm-start';
import { portIsFree, ProcessInfo, survivorsAfter } from '../helpers/processes';

/**
 * From the stop signal to nothing left: the app drains (nothing in flight
 * here), closes, then stops FerretDB. Far more than a quiet machine needs.
 */
const STOP_BOUND_MS = 20_000;
/** From the app's death to FerretDB's: the kernel signals it at once; it needs a moment to close. */
const ORPHAN_BOUND_MS = 10_000;
/** Readiness (a build first, for `npm start`), then the stop. */
const TEST_TIMEOUT_MS = 300_000;
/**
 * How long the sign-in stays in flight after Ctrl-C: past the grace FerretDB 1.24 gives connected
 * clients on a stop signal (3 s: internal/util/ctxutil.WithDelay), so a FerretDB that received the Ctrl-C is gone by then; within the drain.
 */
const IN_FLIGHT_MS = 5_000;
/** How long the app may take to read a request's first bytes on a busy machine. */
const READ_BOUND_MS = 30_000;
/** When the app gets its second SIGINT after the first. */
const REPEAT_AFTER_MS = 500;
/** The app's drain, long enough for that sign-in on a busy machine. */
const DRAIN_SECONDS = '60';

/** The app's node process (not a shell whose command line names it). */
const APP = /^\S*node( \S+)* \S*dist\/main(\.js)?$/;
const FERRETDB = /\/ferretdb /;

function only(tree: ProcessInfo[], command: RegExp): ProcessInfo {
  const found = tree.filter((info) => command.test(info.command));
  if (found.length !== 1) throw new Error(`expected one process matching ${command}, saw:\n${tree.map((info) => info.command).join('\n')}`);
  return found[0];
}

/** npm and what it started: the app, and under it the FerretDB the app started. */
function expectAppAndDatabase(run: NpmRun): ProcessInfo[] {
  const tree = run.tree();
  expect(only(tree, FERRETDB).ppid).toBe(only(tree, APP).pid);
  return tree;
}

/** A sign-in with its body half sent, so it is in flight across the stop, and what the server answers. */
async function signInInFlight(run: NpmRun) {
  const csrf = await fetch(`${run.url}/api/auth/csrf`);
  const token = ((await csrf.json()) as { token: string }).token;
  const cookie = setCookie({ 'set-cookie': csrf.headers.getSetCookie() }, 'csrf')!.split(';')[0];
  const body = JSON.stringify({ email: 'nobody@example.test', password: 'not the password' });
  const socket = connect(run.port, '127.0.0.1');
  await once(socket, 'connect');
  let answer = '';
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
  socket.on('error', () => undefined);
  const closed = once(socket, 'close');
  socket.write(
    'POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
      `Cookie: ${cookie}\r\nX-CSRF-Token: ${token}\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`,
  );
  await readByApp(run.port, socket);
  return {
    finish: async () => {
      // The connection may be gone already (a server that died): what it answered, if anything, is the result.
      if (!socket.destroyed) socket.write(body.slice(5));
      await closed;
      return answer;
    },
  };
}

/**
 * Until the app has read what `socket` sent (the kernel holds none of it for
 * the app's end any more): its headers are parsed, so the request counts as in
 * flight. On a busy machine a signal sent sooner can find nothing in flight.
 */
async function readByApp(port: number, socket: Socket): Promise<void> {
  const filter = `( sport = :${port} and dport = :${socket.localPort} )`;
  const deadline = Date.now() + READ_BOUND_MS;
  while (Date.now() < deadline) {
    const [receiveQueue] = execFileSync('ss', ['-Htn', 'state', 'established', filter]).toString().trim().split(/\s+/);
    if (receiveQueue === '0') return;
    await sleep(50);
  }
  throw new Error(`the app did not read the sign-in's first bytes within ${READ_BOUND_MS} ms`);
}

const describeOnLinux = process.platform === 'linux' ? describe : describe.skip;

describeOnLinux('npm start stops cleanly however it is stopped (the real npm, app and FerretDB)', () => {
  let dir: string;
  let run: NpmRun | undefined;
  beforeAll(() => (dir = projectCopy()));
  afterEach(() => run?.killAll());
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(['SIGTERM', 'SIGINT'] as const)(
    '%s to npm alone: the app drains and exits, FerretDB with it, npm exits and the port is free',
    async (signal) => {
      run = await startNpm(dir, 'start');
      const tree = expectAppAndDatabase(run);
      const npmExited = once(run.npm, 'exit');

      run.npm.kill(signal);

      expect(await survivorsAfter(tree, STOP_BOUND_MS)).toEqual([]);
      expect(await npmExited).toEqual([0, null]);
      expect(await portIsFree(run.port)).toBe(true);
      expect(run.output()).toContain(`"msg":"${signal} received"`);
      expect(run.output()).toContain('"msg":"Shut down"');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'SIGTERM to npm run start:dev: the watcher, the app and FerretDB all exit',
    async () => {
      run = await startNpm(dir, 'start:dev');
      const tree = expectAppAndDatabase(run);

      run.npm.kill('SIGTERM');

      expect(await survivorsAfter(tree, STOP_BOUND_MS)).toEqual([]);
      expect(await portIsFree(run.port)).toBe(true);
      expect(run.output()).toContain('"msg":"Shut down"');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "Ctrl-C at a terminal (SIGINT to npm's whole process group): a sign-in in flight still gets its answer from the database, then all exit",
    async () => {
      ensureBuilt(dir);
      run = await startNpm(dir, 'start:prod', { ownGroup: true, env: { SHUTDOWN_DRAIN_SECONDS: DRAIN_SECONDS } });
      const tree = expectAppAndDatabase(run);
      const signIn = await signInInFlight(run);

      process.kill(-run.npm.pid!, 'SIGINT');
      // npm forwards the SIGINT it got to the app, which so receives it twice, some milliseconds
      // apart or at once. The test sends that repeat itself, at a moment it knows.
      await sleep(REPEAT_AFTER_MS);
      process.kill(only(tree, APP).pid, 'SIGINT');
      await sleep(IN_FLIGHT_MS - REPEAT_AFTER_MS);

      // 401 AUTH_1001 needs the database: the terminal's SIGINT did not stop FerretDB under the app,
      // and the repeated SIGINT did not cut the drain short.
      expect(await signIn.finish()).toMatch(/^HTTP\/1\.1 401 /);
      expect(await survivorsAfter(tree, STOP_BOUND_MS)).toEqual([]);
      expect(await portIsFree(run.port)).toBe(true);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "SIGKILL to the app's node process: FerretDB does not outlive it",
    async () => {
      ensureBuilt(dir);
      run = await startNpm(dir, 'start:prod');
      const tree = expectAppAndDatabase(run);

      process.kill(only(tree, APP).pid, 'SIGKILL');

      expect(await survivorsAfter(tree, ORPHAN_BOUND_MS)).toEqual([]);
      expect(await portIsFree(run.port)).toBe(true);
    },
    TEST_TIMEOUT_MS,
  );
});
