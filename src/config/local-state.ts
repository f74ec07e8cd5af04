import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Project-local and git-ignored: the embedded database, its data, and development-only state. */
export const EMBEDDED_DB_DIR = join(__dirname, '..', '..', '.embedded-db');
const DEVELOPMENT_SECRET_FILE = join(EMBEDDED_DB_DIR, 'session-secret');
const SECRET_BYTES = 48;

/**
 * The session secret outside production when SESSION_SECRET is unset:
 * generated once and kept in `.embedded-db/`, so restarting the development
 * server does not sign everyone out. Never used in production, where
 * SESSION_SECRET is required.
 */
export function developmentSessionSecret(file = DEVELOPMENT_SECRET_FILE): string {
  if (existsSync(file)) {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept) return kept;
  }
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}
