import { ChildProcessWithoutNullStreams, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { EMBEDDED_DB_DIR } from '../../src/config/local-state';
import { buildFerretDb, FERRETDB_VERSION, startFerretDb } from '../../src/database/ferretdb';
import { freePort } from '../../src/database/ports';
import { sleep } from '../helpers/agents';
import { runScript } from '../helpers/scripts';
import { descendants } from '../helpers/processes';

const ROOT = join(__dirname, '..', '..');
const TIMEOUT_MS = 120_000;
/** Go's caches are warm here (the suite's own FerretDB was built first): seconds, not minutes. */
const BUILD_TIMEOUT_MS = 300_000;
/** How long a FerretDB run by hand keeps serving while a newcomer starts. */
const HAND_SERVER_MS = 1_500;

interface Starter {
  child: ChildProcessWithoutNullStreams;
  /** Resolves once the process has loaded the code and waits for `go`. */
  loaded: Promise<void>;
  /** The URI its startEmbeddedDatabase returned. */
  uri: Promise<string>;
  go(): void;
  /** Calls its database's stop() and waits for the process to exit. */
  stop(): Promise<void>;
}

/** A process that calls startEmbeddedDatabase(dataDir) when told to go, as `npm start` or `npm run user:create` would. */
function starter(dataDir: string): Starter {
  const code = `
    const { startEmbeddedDatabase } = require(${JSON.stringify(join(ROOT, 'src', 'database', 'embedded-database'))});
    let database;
    process.stdin.on('data', async (command) => {
      if (String(command).startsWith('go')) {
        database = await startEmbeddedDatabase(${JSON.stringify(dataDir)}, () => {});
        process.stdout.write('uri=' + database.uri + '\\n');
      } else {
        await database.stop();
        process.exit(0);
      }
    });
    process.stdout.write('loaded\\n');`;
  const script = runScript(code);
  return {
    child: script.child,
    loaded: script.printed(/loaded/).then(() => undefined),
    uri: script.printed(/uri=(\S+)/).then((match) => match[1]),
    go: () => script.child.stdin.write('go\n'),
    stop: async () => {
      script.child.stdin.write('stop\n');
      await script.closed;
    },
  };
}

/** FerretDB processes serving `dataDir`. */
function serversOf(dataDir: string): number {
  const all = spawnSync('pgrep', ['-f', `ferretdb.*${dataDir}`], { encoding: 'utf8' }).stdout.trim();
  return all ? all.split('\n').length : 0;
}

describe('building FerretDB', () => {
  it(
    'two builds at once into one directory both succeed, and leave one binary and nothing else',
    async () => {
      const embeddedDir = mkdtempSync(join(tmpdir(), 'embedded-build-'));
      try {
        const binaries = await Promise.all([buildFerretDb(embeddedDir, () => {}), buildFerretDb(embeddedDir, () => {})]);
        expect(new Set(binaries).size).toBe(1);
        expect(readdirSync(embeddedDir)).toEqual(['bin']);
        expect(readdirSync(join(embeddedDir, 'bin')).sort()).toEqual(['ferretdb', 'ferretdb.patches']);
        expect(spawnSync(binaries[0], ['--version'], { encoding: 'utf8' }).stdout).toContain(FERRETDB_VERSION);
      } finally {
        rmSync(embeddedDir, { recursive: true, force: true });
      }
    },
    BUILD_TIMEOUT_MS,
  );
});

describe('the embedded database: one server per data directory', () => {
  let dataDir: string;
  let started: Starter[] = [];
  beforeEach(() => (dataDir = mkdtempSync(join(tmpdir(), 'embedded-owner-'))));
  afterEach(async () => {
    for (const process of started) if (process.child.exitCode === null) process.child.kill('SIGKILL');
    started = [];
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(`${dataDir}-link`, { force: true });
  });

  it(
    'processes starting at once, one through a symbolic link, run one server and share it; it stops with the one that started it',
    async () => {
      // One of them reaches the directory through a symbolic link: still the same directory.
      const link = `${dataDir}-link`;
      symlinkSync(dataDir, link);
      started = [starter(dataDir), starter(link), starter(dataDir)];
      await Promise.all(started.map(({ loaded }) => loaded));
      for (const process of started) process.go();
      const uris = await Promise.all(started.map(({ uri }) => uri));
      expect(new Set(uris).size).toBe(1);
      expect(serversOf(dataDir)).toBe(1);

      // Each writes through the one server, and all see every write.
      for (const [index, uri] of uris.entries()) {
        const client = await MongoClient.connect(uri);
        await client.db('shared').collection('writes').insertOne({ index });
        await client.close();
      }
      const client = await MongoClient.connect(uris[0]);
      expect(await client.db('shared').collection('writes').countDocuments()).toBe(started.length);
      await client.close();

      const owner = started.find(({ child }) => descendants(child.pid!).some((process) => process.command.includes('ferretdb')))!;
      for (const process of started.filter((other) => other !== owner)) await process.stop();
      expect(serversOf(dataDir)).toBe(1);
      await owner.stop();
      expect(serversOf(dataDir)).toBe(0);
    },
    TIMEOUT_MS,
  );

  /** Starts `dataDir`'s owner, with a client connected to its server (which then takes up to 3 s to stop). */
  async function ownerWithClient(): Promise<{ owner: Starter; client: MongoClient }> {
    const owner = starter(dataDir);
    started.push(owner);
    await owner.loaded;
    owner.go();
    const client = await MongoClient.connect(await owner.uri);
    await client.db('shared').collection('writes').insertOne({ before: true });
    return { owner, client };
  }

  /** A newcomer told to go; the servers on `dataDir` the moment its database answers, and its URI. */
  async function newcomer(whileOwnerGoes: () => void): Promise<{ uri: string; servers: number }> {
    const next = starter(dataDir);
    started.push(next);
    await next.loaded;
    whileOwnerGoes();
    next.go();
    const uri = await next.uri;
    return { uri, servers: serversOf(dataDir) };
  }

  it(
    'a FerretDB already running on the directory under another spelling of its path is waited for, not joined by a second',
    async () => {
      const binary = await buildFerretDb(EMBEDDED_DB_DIR, () => {});
      // By hand, with a trailing slash: the same files as the app's `<dataDir>/ferretdb`.
      const byHand = await startFerretDb(binary, `${dataDir}/ferretdb/`, await freePort());
      const { uri, servers } = await newcomer(() => void sleep(HAND_SERVER_MS).then(() => byHand.stop()));
      expect(uri).not.toBe(byHand.uri);
      expect(servers).toBe(1);
    },
    TIMEOUT_MS,
  );

  it(
    'a process starting while the owner stops waits until its server is gone, then starts its own on the same data',
    async () => {
      const { owner, client } = await ownerWithClient();
      const ownerUri = await owner.uri;
      let stopped!: Promise<void>;
      const { uri, servers } = await newcomer(() => (stopped = owner.stop()));
      await stopped;
      await client.close(true);
      expect(uri).not.toBe(ownerUri);
      expect(servers).toBe(1);
      const reader = await MongoClient.connect(uri);
      expect(await reader.db('shared').collection('writes').countDocuments()).toBe(1);
      await reader.close();
    },
    TIMEOUT_MS,
  );

  it(
    'a process starting after the owner was killed outright starts its own once the old server has finished stopping',
    async () => {
      const { owner, client } = await ownerWithClient();
      // Writes in flight keep the old server serving for a while after its parent died.
      let writing = true;
      const writes = (async () => {
        while (writing)
          await client
            .db('shared')
            .collection('writes')
            .insertOne({ during: true })
            .catch(() => undefined);
      })();
      const { uri, servers } = await newcomer(() => owner.child.kill('SIGKILL'));
      writing = false;
      await client.close(true);
      await writes;
      expect(servers).toBe(1);
      const reader = await MongoClient.connect(uri);
      expect(await reader.db('shared').collection('writes').countDocuments({ before: true })).toBe(1);
      await reader.close();
    },
    TIMEOUT_MS,
  );
});
