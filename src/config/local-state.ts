import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Project-local and git-ignored: the embedded database, its data, and development-only state. */
export const EMBEDDED_DB_DIR = join(__dirname, '..', '..', '.embedded-db');
const DEVELOPMENT_SECRET_FILE = join(EMBEDDED_DB_DIR, 'session-secret');
const SECRET_BYTES = 48;

function keptSecret(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * The session secret outside production when SESSION_SECRET is unset:
 * generated once and kept in `.embedded-db/`, so restarting the development
 * server does not sign everyone out. Never used in production, where
 * SESSION_SECRET is required. Processes starting at once agree on one: the
 * secret is written whole under another name, then linked into place, which
 * only the first of them can do; the others read the winner's.
 */
export function developmentSessionSecret(file = DEVELOPMENT_SECRET_FILE): string {
  const kept = keptSecret(file);
  if (kept) return kept;
  mkdirSync(dirname(file), { recursive: true });
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(draft, `${secret}\n`, { mode: 0o600 });
  try {
    linkSync(draft, file);
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const winner = keptSecret(file);
    if (winner) return winner;
    // An empty file (edited by hand, or cut short by a full disk) is replaced.
    renameSync(draft, file);
    return keptSecret(file) ?? secret;
  } finally {
    rmSync(draft, { force: true });
  }
}
