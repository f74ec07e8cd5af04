import { ChildProcess, execFile, spawn } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { PATCH_LEVEL, patchFerretDbSource } from './ferretdb-patches';
import { waitForPort } from './ports';

const run = promisify(execFile);

export const FERRETDB_MODULE = 'github.com/FerretDB/FerretDB';
export const FERRETDB_VERSION = 'v1.24.2';
const BUILD_PROGRESS_INTERVAL_MS = 15_000;
const START_TIMEOUT_MS = 20_000;
/** FerretDB keeps connected clients up to 3 s after SIGTERM (its ctxutil.WithDelay); past this it is killed. */
const STOP_TIMEOUT_MS = 10_000;
const SERVER_GONE_POLL_MS = 100;
/** What FerretDB receives when the process that started it dies: its own clean shutdown. */
const PARENT_DEATH_SIGNAL = 'TERM';

export function ferretDbBinary(embeddedDir: string): string {
  return join(embeddedDir, 'bin', 'ferretdb');
}

/** Beside the binary: which of our patches it was built with (its --version cannot say). */
function patchMarker(binary: string): string {
  return `${binary}.patches`;
}

function builtWithCurrentPatches(binary: string): boolean {
  return existsSync(patchMarker(binary)) && readFileSync(patchMarker(binary), 'utf8').trim() === PATCH_LEVEL;
}

async function installedVersion(binary: string): Promise<string | undefined> {
  if (!existsSync(binary)) return undefined;
  try {
    const { stdout } = await run(binary, ['--version']);
    return /version: (\S+)/.exec(stdout)?.[1];
  } catch {
    return undefined;
  }
}

function makeWritable(path: string): void {
  chmodSync(path, statSync(path).isDirectory() ? 0o755 : 0o644);
  if (statSync(path).isDirectory()) for (const entry of readdirSync(path)) makeWritable(join(path, entry));
}

/**
 * Builds FerretDB once into `<embeddedDir>/bin`. `go install …/cmd/ferretdb@v1.24.2`
 * yields a binary that panics at start (the module ships without
 * build/version/version.txt), so the same module version is fetched through the
 * Go module proxy, given that file and our patches (ferretdb-patches.ts), and
 * built with `go build`.
 */
export async function buildFerretDb(embeddedDir: string, log: (message: string) => void): Promise<string> {
  const binary = ferretDbBinary(embeddedDir);
  if ((await installedVersion(binary)) === FERRETDB_VERSION && builtWithCurrentPatches(binary)) return binary;

  log(`Building FerretDB ${FERRETDB_VERSION} with Go (first start only; a few minutes on 2 cores)…`);
  const started = Date.now();
  const progress = setInterval(
    () => log(`…still building FerretDB (${Math.round((Date.now() - started) / 1000)} s)`),
    BUILD_PROGRESS_INTERVAL_MS,
  );
  // Each build in its own source copy and output, the binary then renamed into place: builds running at once
  // (two data directories, or one whose first owner was killed mid-build) never undo each other's files.
  mkdirSync(dirname(binary), { recursive: true });
  const workspace = mkdtempSync(join(embeddedDir, 'build-'));
  const source = join(workspace, 'ferretdb');
  const built = join(workspace, 'bin');
  try {
    const goEnv = { ...process.env, GOFLAGS: '-mod=mod', GO111MODULE: 'on' };
    const { stdout } = await run('go', ['mod', 'download', '-json', `${FERRETDB_MODULE}@${FERRETDB_VERSION}`], {
      cwd: embeddedDir,
      env: goEnv,
      maxBuffer: 1 << 20,
    });
    cpSync((JSON.parse(stdout) as { Dir: string }).Dir, source, { recursive: true });
    makeWritable(source);
    writeFileSync(join(source, 'build', 'version', 'version.txt'), `${FERRETDB_VERSION}\n`);
    patchFerretDbSource(source);
    await run('go', ['build', '-trimpath', '-o', built, './cmd/ferretdb'], {
      cwd: source,
      env: goEnv,
      maxBuffer: 16 << 20,
    });
    renameSync(built, binary);
    writeFileSync(join(workspace, 'patches'), `${PATCH_LEVEL}\n`);
    renameSync(join(workspace, 'patches'), patchMarker(binary));
  } catch (error) {
    throw new Error(
      `Could not build FerretDB (${(error as Error).message.split('\n')[0]}). ` +
        'Install Go ≥ 1.22 and check that the Go module proxy is reachable, or set MONGODB_URI.',
    );
  } finally {
    clearInterval(progress);
    rmSync(workspace, { recursive: true, force: true });
  }
  log(`FerretDB ${FERRETDB_VERSION} built in ${Math.round((Date.now() - started) / 1000)} s`);
  return binary;
}

export interface RunningFerretDb {
  uri: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

let parentDeathPrefix: Promise<string[] | undefined> | undefined;

/**
 * The command prefix that ties FerretDB's life to this process's: Linux's
 * parent-death signal (prctl PR_SET_PDEATHSIG, which Node cannot call), set by
 * util-linux's `setpriv --pdeathsig` before it execs FerretDB in its own
 * place. When this process dies, by SIGKILL or a crash included, the kernel
 * signals FerretDB. The kernel watches the thread that spawned the child, and
 * Node spawns from its main thread, which lives as long as the process.
 * Undefined where there is no such setpriv (macOS, busybox): there FerretDB
 * is stopped on every exit Node sees, but outlives a SIGKILL.
 */
function parentDeathSignalPrefix(): Promise<string[] | undefined> {
  const prefix = ['setpriv', '--pdeathsig', PARENT_DEATH_SIGNAL, '--'];
  parentDeathPrefix ??=
    process.platform === 'linux'
      ? run(prefix[0], [...prefix.slice(1), 'true']).then(
          () => prefix,
          () => undefined,
        )
      : Promise.resolve(undefined);
  return parentDeathPrefix;
}

/**
 * SQLite's durability for FerretDB's WAL: `normal` writes each commit to the
 * log without waiting for the disk (fsync at checkpoints). A killed FerretDB
 * loses nothing it acknowledged; only a crash of the machine may lose the
 * last commits, as MongoDB's default write concern (`w: 1`, no `j`) may lose
 * the writes of its journal's last commit interval. Waiting for the disk on
 * every commit cost each write far more CPU (docs/performance.md).
 */
const SQLITE_SYNCHRONOUS = 'normal';

/** The directory a FerretDB argument names as holding its data (`--state-dir=…`, `--sqlite-url=file:…`). */
function dataDirectoryOf(argument: string): string | undefined {
  return /^--state-dir=(.+)$/.exec(argument)?.[1] ?? /^--sqlite-url=file:([^?]+)/.exec(argument)?.[1];
}

/** `${device}:${inode}`: one directory, whatever the path that reaches it (a link, a trailing slash, a bind mount). */
function identityOf(path: string): string | undefined {
  try {
    const { dev, ino } = statSync(path);
    return `${dev}:${ino}`;
  } catch {
    return undefined;
  }
}

/** FerretDB processes whose data is in `dataDir`, read from their arguments; Linux only, elsewhere none are seen. */
function serversOf(dataDir: string): number[] {
  if (process.platform !== 'linux') return [];
  const directory = identityOf(dataDir);
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      let argv: string[];
      try {
        argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      } catch {
        return false; // gone meanwhile
      }
      return argv.some((argument) => {
        const named = dataDirectoryOf(argument);
        return named !== undefined && identityOf(named) === directory;
      });
    })
    .map(Number);
}

/**
 * Until no FerretDB serves `dataDir`: one whose app was killed outright
 * still finishes its shutdown (up to its 3 s delay), and a second server
 * on the same files would corrupt them.
 */
async function untilNoServerOn(dataDir: string): Promise<void> {
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  for (let servers = serversOf(dataDir); servers.length > 0; servers = serversOf(dataDir)) {
    if (Date.now() > deadline) {
      throw new Error(`FerretDB (process ${servers.join(', ')}) still serves ${dataDir}: stop it, or set MONGODB_URI`);
    }
    await new Promise((resolve) => setTimeout(resolve, SERVER_GONE_POLL_MS));
  }
}

/** Starts FerretDB (SQLite backend) on 127.0.0.1 with telemetry off, data in `dataDir`, once no other serves it. */
export async function startFerretDb(binary: string, dataDir: string, port: number): Promise<RunningFerretDb> {
  mkdirSync(dataDir, { recursive: true });
  await untilNoServerOn(dataDir);
  const args = [
    '--handler=sqlite',
    `--sqlite-url=file:${dataDir}/?_pragma=synchronous(${SQLITE_SYNCHRONOUS})`,
    `--listen-addr=127.0.0.1:${port}`,
    `--state-dir=${dataDir}`,
    '--telemetry=disable',
    '--debug-addr=-',
    '--log-level=error',
  ];
  const prefix = await parentDeathSignalPrefix();
  const [command, ...commandArgs] = prefix ? [...prefix, binary, ...args] : [binary, ...args];
  const child = spawn(command, commandArgs, {
    stdio: ['ignore', 'ignore', 'pipe'],
    // Its own process group, so a terminal's Ctrl-C (sent to the whole foreground group) does not
    // stop the database under an app still answering its last requests: the app stops it after
    // them. Only with the parent-death signal: without it, the group is what a group kill reaches.
    detached: prefix !== undefined,
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  try {
    await waitForPort(port, START_TIMEOUT_MS, () => child.exitCode !== null);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`FerretDB did not start: ${(error as Error).message}\n${stderr}`);
  }
  return {
    uri: `mongodb://127.0.0.1:${port}`,
    process: child,
    async stop() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const kill = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(kill);
      }
    },
  };
}
