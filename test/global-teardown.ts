import type { EmbeddedDatabase } from '../src/database/embedded-database';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __TEST_DATABASE__?: EmbeddedDatabase }).__TEST_DATABASE__?.stop();
}
