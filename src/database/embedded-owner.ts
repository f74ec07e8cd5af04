import { createHash } from 'node:crypto';
import { rmSync, statSync } from 'node:fs';
import { createConnection, createServer, Server } from 'node:net';
import { join } from 'node:path';

/**
 * Which process runs the embedded database of a data directory. Two servers
 * on one directory corrupt it (each FerretDB keeps its own view of which
 * databases and collections exist), so the first process to claim the
 * directory starts the server and the others (a second `npm start`,
 * `npm run user:create`) use it.
 *
 * The claim is a listening Unix socket. On Linux it lives in the abstract
 * namespace: the kernel lets only one process bind a name and frees it the
 * moment that process exits, however it exits, so a claim can never be left
 * behind, and no pid (which the system may give to another process) is
 * trusted. Elsewhere it is a socket file in the directory, removed when
 * nobody answers on it.
 */
export interface OwnerClaim {
  /** The owner's server answers at `uri`: those who ask are told. */
  publish(uri: string, engine: 'mongod' | 'ferretdb'): void;
  /** The server is stopping: those who ask wait, to claim the directory once it has stopped. */
  withdraw(): void;
  /** The claim ends; call it once the server has stopped. */
  release(): Promise<void>;
}

export interface OwnerAnswer {
  pid: number;
  uri: string;
  engine: 'mongod' | 'ferretdb';
}

/** What an owner says while its server starts or stops: ask again. */
const WAIT = 'wait';
const ABSTRACT_NAMESPACE = process.platform === 'linux';
const ASK_TIMEOUT_MS = 2_000;

/**
 * Where the claim on `dataDir` listens. Named by the directory's device and
 * inode, not its path: a symbolic link, a relative path or a bind mount
 * reaches the same directory under another name.
 */
export function claimSocketOf(dataDir: string): string {
  if (!ABSTRACT_NAMESPACE) return join(dataDir, 'owner.sock');
  const { dev, ino } = statSync(dataDir);
  const digest = createHash('sha256').update(`${dev}:${ino}`).digest('hex').slice(0, 32);
  return `\0session-service-embedded-db-${digest}`;
}

function listen(server: Server, path: string): Promise<boolean> {
  return new Promise((done, fail) => {
    server.once('error', (error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' ? done(false) : fail(error)));
    server.listen(path, () => done(true));
  });
}

/** A claim on `dataDir`, or undefined when another process holds one. */
export async function claimDataDir(dataDir: string): Promise<OwnerClaim | undefined> {
  let said = WAIT;
  const server = createServer((socket) => {
    // An asker may be gone before it reads the answer (killed, Ctrl-C): its reset is no concern of the owner.
    socket.on('error', () => undefined);
    socket.end(said);
  });
  if (!(await listen(server, claimSocketOf(dataDir)))) return undefined;
  // The claim lives as long as the process, and never keeps it from exiting.
  server.unref();
  return {
    publish: (uri, engine) => (said = JSON.stringify({ pid: process.pid, uri, engine } satisfies OwnerAnswer)),
    withdraw: () => (said = WAIT),
    release: () => new Promise((done) => server.close(() => done())),
  };
}

/** Undefined for a cut-short answer (its owner died while answering): asked again, or claimed. */
function parsedAnswer(text: string): OwnerAnswer | undefined {
  try {
    return JSON.parse(text) as OwnerAnswer;
  } catch {
    return undefined;
  }
}

/**
 * What the owner of `dataDir` says: where its server answers, `wait`, or
 * undefined when nobody holds a claim (then try to claim it).
 */
export function askOwner(dataDir: string): Promise<OwnerAnswer | typeof WAIT | undefined> {
  const path = claimSocketOf(dataDir);
  return new Promise((done) => {
    let text = '';
    const socket = createConnection(path);
    // An owner that does not answer (stopped with Ctrl-Z, say) is asked again, until the caller's deadline.
    socket.setTimeout(ASK_TIMEOUT_MS, () => {
      socket.destroy();
      done(WAIT);
    });
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.on('end', () => done(text === WAIT ? WAIT : parsedAnswer(text)));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // A socket file nobody listens on: its owner is gone (never in the abstract namespace).
      if (!ABSTRACT_NAMESPACE && error.code === 'ECONNREFUSED') rmSync(path, { force: true });
      done(undefined);
    });
  });
}
