import { lookup } from 'node:dns/promises';
import { existsSync, mkdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { EMBEDDED_DB_DIR } from '../config/local-state';
import { buildFerretDb, startFerretDb } from './ferretdb';
import { freePort } from './ports';
import { askOwner, claimDataDir, OwnerClaim } from './embedded-owner';

const DOWNLOAD_FAILED_MARKER = join(EMBEDDED_DB_DIR, 'mongod-download-failed');
/** After a failed mongod download, FerretDB is used straight away for this long. */
const DOWNLOAD_RETRY_AFTER_MS = 24 * 60 * 60_000;
/** Where mongodb-memory-server downloads from (its own setting, honoured here). */
const DOWNLOAD_HOST = new URL(process.env.MONGOMS_DOWNLOAD_MIRROR ?? 'https://fastdl.mongodb.org').hostname;
const DNS_TIMEOUT_MS = 2_000;

export interface EmbeddedDatabase {
  uri: string;
  engine: 'mongod' | 'ferretdb';
  stop(): Promise<void>;
}

type Log = (message: string) => void;

function mongodOnPath(): string | undefined {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .map((dir) => join(dir, 'mongod'))
    .find((candidate) => existsSync(candidate));
}

function downloadRecentlyFailed(): boolean {
  return existsSync(DOWNLOAD_FAILED_MARKER) && Date.now() - statSync(DOWNLOAD_FAILED_MARKER).mtimeMs < DOWNLOAD_RETRY_AFTER_MS;
}

/** Without a network there is no download to try (and no noisy failure to print). */
async function downloadHostResolves(): Promise<boolean> {
  const timeout = new Promise<false>((resolve) => setTimeout(() => resolve(false), DNS_TIMEOUT_MS).unref());
  return Promise.race([
    lookup(DOWNLOAD_HOST).then(
      () => true,
      () => false,
    ),
    timeout,
  ]);
}

function rememberDownloadFailed(): void {
  mkdirSync(EMBEDDED_DB_DIR, { recursive: true });
  writeFileSync(DOWNLOAD_FAILED_MARKER, new Date().toISOString());
}

async function startMongod(dataDir: string, log: Log): Promise<EmbeddedDatabase | undefined> {
  let memoryServer: typeof import('mongodb-memory-server-core');
  try {
    memoryServer = await import('mongodb-memory-server-core');
  } catch {
    return undefined; // a production install has no dev dependencies
  }
  const systemBinary = mongodOnPath();
  if (!systemBinary && downloadRecentlyFailed()) return undefined;
  if (!systemBinary && !(await downloadHostResolves())) {
    log(`No mongod on PATH and ${DOWNLOAD_HOST} cannot be reached; using FerretDB`);
    rememberDownloadFailed();
    return undefined;
  }
  try {
    mkdirSync(dataDir, { recursive: true });
    const server = await memoryServer.MongoMemoryServer.create({
      binary: systemBinary ? { systemBinary } : undefined,
      instance: { ip: '127.0.0.1', dbPath: dataDir },
    });
    return { uri: server.getUri(), engine: 'mongod', stop: async () => void (await server.stop()) };
  } catch (error) {
    log(`No mongod could be had (${(error as Error).message.split('\n')[0]}); using FerretDB instead`);
    if (!systemBinary) rememberDownloadFailed();
    return undefined;
  }
}

/** How long a process waits for the one starting the embedded database: a first start builds FerretDB for minutes. */
const OWNER_WAIT_MS = 10 * 60_000;
const OWNER_POLL_MS = 200;

async function startOwnDatabase(dataDir: string, log: Log): Promise<EmbeddedDatabase> {
  const mongod = await startMongod(join(dataDir, 'mongod'), log);
  if (mongod) return mongod;
  const binary = await buildFerretDb(EMBEDDED_DB_DIR, log);
  const ferret = await startFerretDb(binary, join(dataDir, 'ferretdb'), await freePort());
  return { uri: ferret.uri, engine: 'ferretdb', stop: () => ferret.stop() };
}

/** Starts the server under `claim`, told to those who ask once it answers; the claim ends once it stops. */
async function startAsOwner(claim: OwnerClaim, dataDir: string, log: Log): Promise<EmbeddedDatabase> {
  let database: EmbeddedDatabase;
  try {
    database = await startOwnDatabase(dataDir, log);
  } catch (error) {
    await claim.release();
    throw error;
  }
  claim.publish(database.uri, database.engine);
  log(`Started an embedded ${database.engine} at ${database.uri}`);
  return {
    ...database,
    stop: async () => {
      // Released only once stopped: a process starting meanwhile waits, rather than use a server that is going
      // or run a second one on the same files.
      claim.withdraw();
      await database.stop();
      await claim.release();
    },
  };
}

/**
 * The development and test database when MONGODB_URI is unset (never in
 * production): a real mongod via mongodb-memory-server where one can be had,
 * else FerretDB with its SQLite backend, built once on first use. One server
 * per data directory: a process that finds one running, or starting, uses it
 * (and it stops with the process that started it).
 */
export async function startEmbeddedDatabase(given: string, log: Log): Promise<EmbeddedDatabase> {
  mkdirSync(given, { recursive: true });
  // The server is given the real path; claims and servers are told apart by device and inode anyway.
  const dataDir = realpathSync(given);
  const deadline = Date.now() + OWNER_WAIT_MS;
  let waiting = false;
  while (Date.now() < deadline) {
    const claim = await claimDataDir(dataDir);
    if (claim) return startAsOwner(claim, dataDir, log);
    const owner = await askOwner(dataDir);
    if (owner && owner !== 'wait') {
      log(`Using the embedded ${owner.engine} that process ${owner.pid} started at ${owner.uri}; it stops with that process`);
      return { uri: owner.uri, engine: owner.engine, stop: async () => {} };
    }
    if (owner === 'wait' && !waiting) {
      log('Waiting for the embedded database another process is starting or stopping…');
      waiting = true;
    }
    await new Promise((resolve) => setTimeout(resolve, OWNER_POLL_MS));
  }
  throw new Error(`The embedded database in ${dataDir} did not start within ${OWNER_WAIT_MS / 60_000} minutes; set MONGODB_URI`);
}
