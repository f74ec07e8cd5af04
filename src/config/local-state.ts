import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Project-local and git-ignored: the embedded database, its data, and development-only state. */
export const EMBEDDED_DB_DIR = join(__dirname, '..', '..', '.embedded-db');
const DEVELOPMENT_SECRET_FILE = join(EMBEDDED_DB_DIR, 'session-secret');
const SECRET_BYTES = 48;

/** The kept secret; undefined when there is none yet. A blank file is refused: replacing it would race. */
function keptSecret(file: string): string | undefined {
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const secret = content.trim();
  if (!secret) throw new Error(`${file} is empty: delete it, and the next start generates a new secret (signing everyone out)`);
  return secret;
}

/**
 * Puts `draft` in place as `file` unless `file` exists (EEXIST then): a hard
 * link, else an exclusive create where links are not supported; that one is
 * not whole at once, so a process reading at that instant finds it empty.
 */
function placeUnlessPresent(draft: string, file: string, content: string): void {
  try {
    linkSync(draft, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw error;
    writeFileSync(file, content, { mode: 0o600, flag: 'wx' });
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
  try {
    writeFileSync(draft, `${secret}\n`, { mode: 0o600 });
    placeUnlessPresent(draft, file, `${secret}\n`);
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // Unless a person deleted the winner's meanwhile: then another try.
    return keptSecret(file) ?? developmentSessionSecret(file);
  } finally {
    rmSync(draft, { force: true });
  }
}
