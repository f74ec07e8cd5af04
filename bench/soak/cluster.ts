/**
 * The processes the soak runs and breaks: one database and two app
 * instances, each restartable on the same port (and, for the database, the
 * same data), each sampled for RSS.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EMBEDDED_DB_DIR } from '../../src/config/local-state';
import { buildFerretDb, RunningFerretDb, startFerretDb } from '../../src/database/ferretdb';
import { freePort, waitForPort } from '../../src/database/ports';
import { productionNodeFlags } from '../support';
import { APP_START_TIMEOUT_MS } from './settings';

const ROOT = join(__dirname, '..', '..');
const READY_POLL_MS = 200;

export interface SoakDatabase {
  /** The server's address, without a database name. */
  server: string;
  /** False with MONGODB_URI: someone else's server is not ours to kill. */
  killable: boolean;
  describe: string;
  kill(): Promise<void>;
  restart(): Promise<void>;
  /** Stops it; its data stays when `keepData` (to look into a violation), and the answer says where. */
  stop(keepData: boolean): Promise<string | undefined>;
}

/** FerretDB from .embedded-db/bin with a data folder of its own, so it can be killed and started again on the same port and data. */
export async function ownDatabase(log: (message: string) => void): Promise<SoakDatabase> {
  const binary = await buildFerretDb(EMBEDDED_DB_DIR, log);
  const dataDir = mkdtempSync(join(tmpdir(), 'soak-db-'));
  const port = await freePort();
  let running: RunningFerretDb = await startFerretDb(binary, dataDir, port);
  return {
    server: running.uri,
    killable: true,
    describe: `FerretDB (own process, ${dataDir})`,
    async kill() {
      const exited = new Promise((resolve) => running.process.once('exit', resolve));
      running.process.kill('SIGKILL');
      await exited;
    },
    async restart() {
      running = await startFerretDb(binary, dataDir, port);
    },
    async stop(keepData) {
      await running.stop();
      if (keepData) return dataDir;
      rmSync(dataDir, { recursive: true, force: true });
      return undefined;
    },
  };
}

export function externalDatabase(uri: string): SoakDatabase {
  const refuse = () => Promise.reject(new Error('the database of MONGODB_URI is not the soak’s to kill'));
  return {
    server: uri.replace(/\/?(\?.*)?$/, ''),
    killable: false,
    describe: 'MONGODB_URI (database faults skipped)',
    kill: refuse,
    restart: refuse,
    stop: () => Promise.resolve(undefined),
  };
}

/** The driver's own logs (MONGODB_LOG_TOPOLOGY=debug, MONGODB_LOG_PATH=stderr, …) reach the instances' logs when asked for. */
function driverLogging(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[0].startsWith('MONGODB_LOG_')));
}

export interface RssSample {
  at: number;
  mb: number;
}

/** One process of an instance, from its start to its exit. */
export interface Incarnation {
  pid: number;
  startedAt: number;
  readyAt?: number;
  exitedAt?: number;
  rss: RssSample[];
}

/** One app instance as deployed (`node <Dockerfile flags> dist/main.js`, NODE_ENV=production) on a fixed port. */
export class AppInstance {
  readonly url: string;
  readonly incarnations: Incarnation[] = [];
  /** Whether the load balancer sends it requests: false from a fault's signal until it is ready again. */
  up = false;
  private child?: ChildProcess;
  private exited?: Promise<void>;

  constructor(
    readonly name: string,
    readonly index: number,
    private readonly port: number,
    private readonly env: Record<string, string>,
    private readonly output: WriteStream,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  static async create(name: string, index: number, env: Record<string, string>, output: WriteStream): Promise<AppInstance> {
    return new AppInstance(name, index, await freePort(), env, output);
  }

  /** The incarnation a request sent now reaches. */
  get incarnation(): number {
    return this.incarnations.length - 1;
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, [...productionNodeFlags(), 'dist/main.js'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...driverLogging(), ...this.env, PORT: String(this.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const incarnation: Incarnation = { pid: child.pid ?? -1, startedAt: Date.now(), rss: [] };
    this.incarnations.push(incarnation);
    this.output.write(`--- ${new Date().toISOString()} instance ${this.name} started, pid ${child.pid}\n`);
    child.stdout?.pipe(this.output, { end: false });
    child.stderr?.pipe(this.output, { end: false });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        incarnation.exitedAt = Date.now();
        this.output.write(`--- ${new Date().toISOString()} instance ${this.name} exited (${signal ?? code})\n`);
        resolve();
      }),
    );
    await waitForPort(this.port, APP_START_TIMEOUT_MS, () => child.exitCode !== null);
    const deadline = Date.now() + APP_START_TIMEOUT_MS;
    while (
      !(await fetch(`${this.url}/health/ready`).then(
        (response) => response.ok,
        () => false,
      ))
    ) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`instance ${this.name} did not become ready`);
      await sleep(READY_POLL_MS);
    }
    incarnation.readyAt = Date.now();
    this.up = true;
  }

  /** Sends `signal` and waits for the process to exit. */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    this.up = false;
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill(signal);
    await this.exited;
  }

  sampleRss(): void {
    const current = this.incarnations[this.incarnation];
    if (!current || current.exitedAt !== undefined) return;
    try {
      const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${current.pid}/status`, 'utf8'))?.[1];
      if (kb) current.rss.push({ at: Date.now(), mb: Number(kb) / 1024 });
    } catch {
      // Exited between the check and the read.
    }
  }
}

export type FaultKind = 'database SIGKILL' | 'instance SIGTERM' | 'instance SIGKILL';

/** A fault and the window in which answers are the fault's: from its signal until it recovered, plus a grace. */
export interface FaultWindow {
  kind: FaultKind;
  /** The instance it hit; none for the database (it hits every request). */
  instance?: number;
  start: number;
  /** The database's port open again, or the instance ready again. */
  recovered?: number;
  until: number;
}

/** The fault whose window overlaps [from, to] for a request on `instance` (database faults hit every instance). */
export function faultDuring(
  faults: FaultWindow[],
  instance: number,
  from: number,
  to: number,
  { instanceFaultsOnly = false } = {},
): FaultWindow | undefined {
  return faults.find(
    (fault) =>
      (fault.instance === undefined ? !instanceFaultsOnly : fault.instance === instance) && from < fault.until && to >= fault.start,
  );
}
