import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Which process runs the embedded database of a data directory, and where.
 * Two database servers on one directory corrupt it (each FerretDB keeps its
 * own view of which databases and collections exist), so the first process
 * to claim the directory starts the server and the others (a second
 * `npm start`, `npm run user:create`) use it.
 */
export interface EmbeddedOwner {
  pid: number;
  /** Set once its server answers; absent while it starts (a first start may build FerretDB for minutes). */
  uri?: string;
  engine?: 'mongod' | 'ferretdb';
}

function ownerFile(dataDir: string): string {
  return join(dataDir, 'owner.json');
}

/** `owner` written whole under another name, then put in place by `place`; the draft never stays. */
function writeWhole(dataDir: string, owner: EmbeddedOwner, place: (draft: string, file: string) => void): void {
  const draft = `${ownerFile(dataDir)}.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    writeFileSync(draft, JSON.stringify(owner));
    place(draft, ownerFile(dataDir));
  } finally {
    rmSync(draft, { force: true });
  }
}

/** True when this process now owns `dataDir`: no other process had claimed it (a hard link never replaces a file). */
export function claimDataDir(dataDir: string): boolean {
  try {
    writeWhole(dataDir, { pid: process.pid }, linkSync);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** The owner's server answers at `uri`: the processes waiting for it may connect. */
export function publishOwner(dataDir: string, uri: string, engine: 'mongod' | 'ferretdb'): void {
  writeWhole(dataDir, { pid: process.pid, uri, engine }, renameSync);
}

/** The claim as written, if any; one that cannot be read as a claim counts as one of a process long gone. */
export function currentOwner(dataDir: string): EmbeddedOwner | undefined {
  let text: string;
  try {
    text = readFileSync(ownerFile(dataDir), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const owner = JSON.parse(text) as EmbeddedOwner;
    return Number.isInteger(owner.pid) ? owner : { pid: 0 };
  } catch {
    return { pid: 0 };
  }
}

/** Removes the claim of a process that is gone (or whose server is), unless the claim changed since it was read. */
export function removeStaleClaim(dataDir: string, stale: EmbeddedOwner): void {
  const now = currentOwner(dataDir);
  if (now && now.pid === stale.pid && now.uri === stale.uri) rmSync(ownerFile(dataDir), { force: true });
}

/** This process's claim ends (its server stopped, or never started). */
export function releaseDataDir(dataDir: string): void {
  if (currentOwner(dataDir)?.pid === process.pid) rmSync(ownerFile(dataDir), { force: true });
}

export function isRunning(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
