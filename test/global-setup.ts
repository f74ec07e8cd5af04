import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedDatabase } from '../src/database/embedded-database';

/**
 * One real database server for the whole run (each test file uses its own
 * database on it): MONGODB_URI when set, as in CI, else the embedded chain.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.MONGODB_URI) return;
  const dataDir = mkdtempSync(join(tmpdir(), 'session-service-test-'));
  const database = await startEmbeddedDatabase(dataDir, (message) => process.stderr.write(`${message}\n`));
  process.env.MONGODB_URI = database.uri;
  (globalThis as { __TEST_DATABASE__?: typeof database }).__TEST_DATABASE__ = database;
}
