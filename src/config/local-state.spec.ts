import fs from 'node:fs';
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runScript } from '../../test/helpers/scripts';
import { developmentSessionSecret } from './local-state';

const PROCESSES = 6;

/** `developmentSessionSecret(file)` in `count` processes, released together once all have started; what each returned. */
async function secretsOfProcessesStartingAtOnce(file: string, count: number): Promise<string[]> {
  const scripts = Array.from({ length: count }, () =>
    runScript(
      [
        `const { developmentSessionSecret } = require(${JSON.stringify(join(__dirname, 'local-state'))});`,
        `process.stdin.once('data', () => process.stdout.write(developmentSessionSecret(${JSON.stringify(file)})));`,
        `process.stdout.write('ready;');`,
      ].join('\n'),
    ),
  );
  await Promise.all(scripts.map((script) => script.printed(/ready;/)));
  for (const script of scripts) script.child.stdin.end('go');
  await Promise.all(scripts.map((script) => script.closed));
  return scripts.map((script) => script.output().slice('ready;'.length));
}

describe('developmentSessionSecret', () => {
  const directory = () => mkdtempSync(join(tmpdir(), 'dev-secret-'));

  it('generates a long secret once and keeps it, readable by the owner only', () => {
    const file = join(directory(), 'nested', 'session-secret');
    const first = developmentSessionSecret(file);
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect(developmentSessionSecret(file)).toBe(first);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('refuses an empty file, saying what to do, and leaves it for the person to delete', () => {
    const dir = directory();
    const file = join(dir, 'session-secret');
    writeFileSync(file, '\n');
    expect(() => developmentSessionSecret(file)).toThrow(`${file} is empty: delete it`);
    expect(readdirSync(dir)).toEqual(['session-secret']);
  });

  it('keeps the secret another process wrote between this one looking and writing', () => {
    const file = join(directory(), 'session-secret');
    const theirs = 'a-secret-another-process-wrote-just-now-0123456789';
    const write = fs.writeFileSync;
    const spy = jest.spyOn(fs, 'writeFileSync').mockImplementationOnce((...args: Parameters<typeof write>) => {
      write(file, `${theirs}\n`);
      write(...args);
    });
    try {
      expect(developmentSessionSecret(file)).toBe(theirs);
      expect(developmentSessionSecret(file)).toBe(theirs);
    } finally {
      spy.mockRestore();
    }
  });

  it('where the filesystem has no hard links, places the secret by exclusive create, and keeps it', () => {
    const dir = directory();
    const file = join(dir, 'session-secret');
    const spy = jest.spyOn(fs, 'linkSync').mockImplementation(() => {
      throw Object.assign(new Error('EPERM: operation not permitted, link'), { code: 'EPERM' });
    });
    try {
      const secret = developmentSessionSecret(file);
      expect(secret.length).toBeGreaterThanOrEqual(32);
      expect(developmentSessionSecret(file)).toBe(secret);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(readdirSync(dir)).toEqual(['session-secret']);
    } finally {
      spy.mockRestore();
    }
  });

  it('leaves no half-written draft behind when the disk is full', () => {
    const dir = directory();
    const write = fs.writeFileSync;
    const spy = jest.spyOn(fs, 'writeFileSync').mockImplementationOnce((...args: Parameters<typeof write>) => {
      write(args[0], 'half');
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    });
    try {
      expect(() => developmentSessionSecret(join(dir, 'session-secret'))).toThrow('ENOSPC');
    } finally {
      spy.mockRestore();
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  it('gives processes starting at once the same secret, and leaves no draft behind', async () => {
    const dir = directory();
    const file = join(dir, 'session-secret');
    const secrets = await secretsOfProcessesStartingAtOnce(file, PROCESSES);
    expect(secrets).toHaveLength(PROCESSES);
    expect(new Set(secrets).size).toBe(1);
    expect(developmentSessionSecret(file)).toBe(secrets[0]);
    expect(readdirSync(dir)).toEqual(['session-secret']);
  }, 60_000);
});
