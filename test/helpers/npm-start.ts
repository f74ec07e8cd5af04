import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { EMBEDDED_DB_DIR } from '../../src/config/local-state';
import { ferretDbBinary } from '../../src/database/ferretdb';
import { freePort } from '../../src/database/ports';
import { sleep } from './agents';
import { descendants, isAlive, listenerOf, processInfo, ProcessInfo } from './processes';

const ROOT = join(__dirname, '..', '..');
/** What `npm start` reads; node_modules and the FerretDB binary are linked, not copied. */
const COPIED = ['package.json', 'nest-cli.json', 'tsconfig.json', 'tsconfig.build.json', 'src', 'views', 'public'];
/** `npm start` builds (nest build) before it starts, slowly on a busy 2-core machine. */
const READY_TIMEOUT_MS = 240_000;
const POLL_MS = 250;
const OUTPUT_TAIL = 3_000;

/**
 * The project as a fresh checkout sees it, in a temporary folder: its own
 * `.embedded-db` (data, generated secret, first-start admin), so `npm start`
 * there touches nothing of this checkout's development database.
 */
export function projectCopy(): string {
  const binary = ferretDbBinary(EMBEDDED_DB_DIR);
  if (!existsSync(binary)) throw new Error(`These tests start the real FerretDB: build it first (npm run db:build), expected at ${binary}`);
  const dir = mkdtempSync(join(tmpdir(), 'session-service-npm-start-'));
  for (const entry of COPIED) cpSync(join(ROOT, entry), join(dir, entry), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  mkdirSync(join(dir, '.embedded-db'));
  symlinkSync(dirname(binary), join(dir, '.embedded-db', 'bin'));
  // A fresh copy would first try to download mongod; this marker says it failed, so FerretDB starts at once.
  writeFileSync(join(dir, '.embedded-db', 'mongod-download-failed'), new Date().toISOString());
  return dir;
}

/** Builds the copy (what `npm start` does first) for scripts that only run what is built. */
export function ensureBuilt(dir: string): void {
  // On failure, execFileSync's error carries the build's output.
  if (!existsSync(join(dir, 'dist', 'main.js'))) execFileSync('npx', ['nest', 'build'], { cwd: dir, encoding: 'utf8' });
}

export interface NpmRun {
  npm: ChildProcess;
  port: number;
  url: string;
  output(): string;
  /** npm and everything under it, as they are now. */
  tree(): ProcessInfo[];
  /** SIGKILL to every process seen under npm, so a failed test leaves nothing running. */
  killAll(): void;
}

/**
 * `npm <script>` in `dir` as a person at a terminal runs it: no MONGODB_URI
 * (the app starts its embedded database), no NODE_ENV, PORT free. With
 * `ownGroup`, npm leads its own process group, as a terminal's foreground job
 * does, so the test can send what Ctrl-C sends: a signal to the whole group.
 * Resolves once /health/ready answers 200.
 */
export async function startNpm(
  dir: string,
  script: 'start' | 'start:dev' | 'start:prod',
  { ownGroup = false, env: extraEnv = {} }: { ownGroup?: boolean; env?: Record<string, string> } = {},
): Promise<NpmRun> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    // What jest and an enclosing `npm test` set: not what a person's shell has.
    if (!/^(npm_|MONGODB_URI$|NODE_ENV$|INIT_CWD$|JEST_WORKER_ID$)/.test(key)) env[key] = value;
  }
  Object.assign(env, extraEnv, { PORT: String(port), LOG_LEVEL: 'info', npm_config_update_notifier: 'false' });
  const npm = spawn('npm', script === 'start' ? ['start'] : ['run', script], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: ownGroup,
  });
  let output = '';
  npm.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  npm.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const seen = new Map<number, ProcessInfo>();
  const tree = () => {
    const now = [processInfo(npm.pid!), ...descendants(npm.pid!)].filter((info): info is ProcessInfo => info !== undefined);
    for (const info of now) seen.set(info.pid, info);
    return now;
  };
  const run: NpmRun = {
    npm,
    port,
    url: `http://127.0.0.1:${port}`,
    output: () => output,
    tree,
    killAll: () => {
      tree();
      for (const pid of seen.keys()) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    },
  };
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline && npm.exitCode === null && npm.signalCode === null) {
    const ours = new Set(tree().map((info) => info.pid));
    // Only our app's answer counts: while npm builds, another test's server may be given the same free port.
    const listener = listenerOf(port);
    if (
      listener !== undefined &&
      ours.has(listener) &&
      (await fetch(`${run.url}/health/ready`).then(
        (response) => response.ok,
        () => false,
      ))
    )
      return run;
    await sleep(POLL_MS);
  }
  run.killAll();
  const why = npm.exitCode === null && npm.signalCode === null ? `not ready after ${READY_TIMEOUT_MS / 1000} s` : 'exited';
  throw new Error(`npm ${script} in ${dir}: ${run.url}/health/ready ${why}; its output ends:\n${output.slice(-OUTPUT_TAIL)}`);
}
