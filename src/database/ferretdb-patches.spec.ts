import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { MongoClient } from 'mongodb';
import { FERRETDB_MODULE, FERRETDB_VERSION } from './ferretdb';
import { ADDED_FILES, PATCHED_FILES, patchFerretDbSource } from './ferretdb-patches';

/** FerretDB's source in Go's module cache (`go mod download` puts it there; `npm run db:build` does). */
function moduleCacheSource(): string {
  let modCache = process.env.GOMODCACHE;
  if (!modCache) {
    try {
      modCache = execFileSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8' }).trim();
    } catch {
      modCache = join(process.env.GOPATH ?? join(homedir(), 'go'), 'pkg', 'mod');
    }
  }
  // The module cache spells capitals as "!" + lower case.
  const escaped = FERRETDB_MODULE.replace(/[A-Z]/g, (c) => `!${c.toLowerCase()}`);
  return join(modCache, `${escaped}@${FERRETDB_VERSION}`);
}

const source = moduleCacheSource();
const haveSource = PATCHED_FILES.every((file) => existsSync(join(source, file)));
if (!haveSource) {
  process.stderr.write(
    `ferretdb-patches.spec: SKIPPED the source checks, FerretDB ${FERRETDB_VERSION} is not in Go's module cache (${source}); ` +
      'run `npm run db:build` (or `go mod download ' +
      `${FERRETDB_MODULE}@${FERRETDB_VERSION}\`) first.\n`,
  );
}

(haveSource ? describe : describe.skip)(`FerretDB patches against ${FERRETDB_MODULE}@${FERRETDB_VERSION}`, () => {
  let dir: string;
  const read = (file: string) => readFileSync(join(dir, file), 'utf8');

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ferretdb-patches-'));
    for (const file of PATCHED_FILES) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      cpSync(join(source, file), join(dir, file));
    }
    patchFerretDbSource(dir); // throws unless each find text occurs exactly once
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fits each file exactly once and adds its own files', () => {
    for (const file of ADDED_FILES) expect(existsSync(join(dir, file))).toBe(true);
  });

  it('pushes any _id equality or _id $in down to SQLite in Query and Explain, whatever else the filter holds', () => {
    const collection = read('internal/backends/sqlite/collection.go');
    expect(collection).not.toContain('params.Filter.Len() == 1');
    expect(collection.match(/whereClause, args = idPushdown\(params\.Filter\)/g)).toHaveLength(2);
    expect(collection).toContain('filterPushdown = whereClause != ""');
    const pushdown = read('internal/backends/sqlite/id_pushdown.go');
    expect(pushdown).toContain('WHERE %s = ?');
    expect(pushdown).toContain('WHERE %s IN (%s)');
    expect(pushdown).toContain("WHERE (%[1]s = ? OR (%[1]s >= '[' AND %[1]s < '\\'))");
  });

  it('looks documents up by the expression of the _id index and makes writes atomic', () => {
    expect(read('internal/backends/sqlite/metadata/metadata.go')).toContain(`IDColumn = DefaultColumn + "->'_id'"`);
    for (const file of ['internal/handler/msg_update.go', 'internal/handler/msg_findandmodify.go', 'internal/handler/msg_delete.go']) {
      expect(read(file).match(/documentWriteMu\.Lock\(\)/g)).toHaveLength(1);
    }
  });

  it('leaves Go that parses (gofmt -e), when gofmt is installed', () => {
    let gofmt = true;
    try {
      execFileSync('gofmt', ['-h'], { stdio: 'ignore' });
    } catch (error) {
      gofmt = (error as { code?: string }).code !== 'ENOENT';
    }
    if (!gofmt) return;
    const files = [...PATCHED_FILES, ...ADDED_FILES].map((file) => join(dir, file));
    expect(execFileSync('gofmt', ['-e', '-l', ...files], { encoding: 'utf8' })).toBe('');
  });
});

/** The built binary, through the run's database server (global setup): checks what the patches are for. */
describe('_id filters with other conditions', () => {
  let client: MongoClient;
  const db = `ferretdb_patches_${process.pid}`;

  beforeAll(async () => {
    client = await new MongoClient(process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27017', { serverSelectionTimeoutMS: 5_000 }).connect();
    await client
      .db(db)
      .collection<{ _id: string; n: number; ended?: string }>('docs')
      .insertMany(Array.from({ length: 2_000 }, (_, n) => ({ _id: `id-${n}`, n })));
  });
  afterAll(async () => {
    await client?.db(db).dropDatabase();
    await client?.close();
  });

  const docs = () => client.db(db).collection<{ _id: string; n: number; ended?: string }>('docs');

  it('updates and deletes nothing when the other condition does not match', async () => {
    await docs().updateOne({ _id: 'id-7' }, { $set: { ended: 'signed-out' } });
    expect(await docs().updateOne({ _id: 'id-7', ended: { $exists: false } }, { $set: { n: -1 } })).toMatchObject({ matchedCount: 0 });
    expect(await docs().deleteOne({ _id: 'id-8', n: { $gt: 8 } })).toMatchObject({ deletedCount: 0 });
    expect(await docs().deleteMany({ _id: { $in: ['id-9', 'id-10'] }, n: { $lt: 10 } })).toMatchObject({ deletedCount: 1 });
    expect(
      await docs()
        .find({ _id: { $in: ['id-7', 'id-8', 'id-9', 'id-10', 'id-11'] } }, { sort: { n: 1 } })
        .toArray(),
    ).toEqual([
      { _id: 'id-7', n: 7, ended: 'signed-out' },
      { _id: 'id-8', n: 8 },
      { _id: 'id-10', n: 10 },
      { _id: 'id-11', n: 11 },
    ]);
    expect(
      await docs()
        .find({ _id: { $in: ['id-11', 42 as unknown as string, /^id-12$/ as unknown as string] } })
        .toArray(),
    ).toHaveLength(2);
  });

  it('is answered through the _id index on FerretDB', async () => {
    const info = await client.db(db).admin().command({ buildInfo: 1 });
    if (!info.ferretdbVersion) return; // MongoDB uses its _id index anyway
    for (const filter of [
      { _id: 'id-20', ended: { $exists: false } },
      { _id: { $in: ['id-21', 'id-22'] }, n: { $gt: 0 } },
    ]) {
      const plan = JSON.stringify((await docs().find(filter).explain()).queryPlanner);
      expect(plan).toMatch(/SEARCH .* USING INDEX/);
    }
  });
});

/** The built binary: a top-level string equality without `_id` is narrowed in SQLite and still finds every match. */
describe('string equalities on other fields', () => {
  interface Account {
    email: string | string[];
    n: number;
  }
  let client: MongoClient;
  const db = `ferretdb_field_pushdown_${process.pid}`;
  const accounts = () => client.db(db).collection<Account>('accounts');

  beforeAll(async () => {
    client = await new MongoClient(process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27017', { serverSelectionTimeoutMS: 5_000 }).connect();
    await accounts().createIndex({ email: 1 });
    await accounts().insertMany([
      ...Array.from({ length: 2_000 }, (_, n) => ({ email: `user-${n}@example.com`, n })),
      // MongoDB's equality also matches an array element, and a value Go and SQLite write differently (&) is not narrowed.
      { email: ['both@example.com', 'user-3@example.com'], n: -1 },
      { email: 'a&b@example.com', n: -2 },
      { email: 'ünïcode@example.com', n: -3 },
    ]);
  });
  afterAll(async () => {
    await client?.db(db).dropDatabase();
    await client?.close();
  });

  it('finds exactly what MongoDB finds, beside other conditions', async () => {
    const ns = async (filter: object) =>
      (
        await accounts()
          .find(filter, { sort: { n: 1 } })
          .toArray()
      ).map((account) => account.n);
    expect(await ns({ email: 'user-3@example.com' })).toEqual([-1, 3]);
    expect(await ns({ email: 'user-3@example.com', n: { $gt: 0 } })).toEqual([3]);
    expect(await ns({ email: 'both@example.com' })).toEqual([-1]);
    expect(await ns({ email: 'a&b@example.com' })).toEqual([-2]);
    expect(await ns({ email: 'ünïcode@example.com' })).toEqual([-3]);
    expect(await ns({ email: 'nobody@example.com' })).toEqual([]);
    expect(await ns({ n: 5, email: 'user-5@example.com' })).toEqual([5]);
    expect(
      await accounts().findOneAndUpdate({ email: 'user-9@example.com', n: 9 }, { $inc: { n: 1000 } }, { returnDocument: 'after' }),
    ).toMatchObject({ n: 1009 });
  });

  it('is answered through the field’s index on FerretDB', async () => {
    const info = await client.db(db).admin().command({ buildInfo: 1 });
    if (!info.ferretdbVersion) return; // MongoDB uses the index anyway
    const plan = JSON.stringify(
      (
        await accounts()
          .find({ email: 'user-20@example.com', n: { $gt: 0 } })
          .explain()
      ).queryPlanner,
    );
    expect(plan).toMatch(/SEARCH .* USING INDEX/);
    expect(plan).not.toMatch(/SCAN/);
  });
});
