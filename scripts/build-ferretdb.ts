import { EMBEDDED_DB_DIR } from '../src/config/local-state';
import { buildFerretDb } from '../src/database/ferretdb';

/** Builds FerretDB into .embedded-db/bin once; later runs return at once. */
buildFerretDb(EMBEDDED_DB_DIR, (message) => process.stdout.write(`${message}\n`)).then(
  (binary) => process.stdout.write(`FerretDB ready: ${binary}\n`),
  (error: Error) => {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  },
);
