import { ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { freePort } from '../../src/database/ports';
import { descendants } from '../helpers/processes';

const ROOT = join(__dirname, '..', '..');
const TIMEOUT_MS = 120_000;

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
  const script = `
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
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], { cwd: ROOT });
  let output = '';
  const seen = (pattern: RegExp) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(output);
        if (match) resolve(match);
      };
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        check();
      });
      child.once('exit', (code) => reject(new Error(`the process exited (${code}) before printing ${pattern}`)));
    });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    loaded: seen(/loaded/).then(() => undefined),
    uri: seen(/uri=(\S+)/).then((match) => match[1]),
    go: () => child.stdin.write('go\n'),
    stop: async () => {
      child.stdin.write('stop\n');
      await exited;
    },
  };
}

/** FerretDB processes serving `dataDir`. */
function serversOf(dataDir: string): number {
  const all = spawnSync('pgrep', ['-f', `ferretdb.*${dataDir}`], { encoding: 'utf8' }).stdout.trim();
  return all ? all.split('\n').length : 0;
}

describe('the embedded database: one server per data directory', () => {
  let dataDir: string;
  let started: Starter[] = [];
  beforeEach(() => (dataDir = mkdtempSync(join(tmpdir(), 'embedded-owner-'))));
  afterEach(async () => {
    for (const process of started) if (process.child.exitCode === null) process.child.kill('SIGKILL');
    started = [];
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(
    'processes starting at once run one server and share it; it stops with the one that started it',
    async () => {
      started = [starter(dataDir), starter(dataDir), starter(dataDir)];
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
      expect(existsSync(join(dataDir, 'owner.json'))).toBe(false);
    },
    TIMEOUT_MS,
  );

  it(
    'a claim left by a process that is gone is taken over',
    async () => {
      const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
      const closedPort = await freePort();
      writeFileSync(
        join(dataDir, 'owner.json'),
        JSON.stringify({ pid: Number(gone), uri: `mongodb://127.0.0.1:${closedPort}`, engine: 'ferretdb' }),
      );
      started = [starter(dataDir)];
      await started[0].loaded;
      started[0].go();
      const uri = await started[0].uri;
      expect(uri).not.toContain(String(closedPort));
      const client = await MongoClient.connect(uri);
      await client.db('admin').command({ ping: 1 });
      await client.close();
      await started[0].stop();
    },
    TIMEOUT_MS,
  );
});
