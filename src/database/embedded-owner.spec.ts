import { mkdtempSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runScript } from '../../test/helpers/scripts';
import { askOwner, claimDataDir, claimSocketOf } from './embedded-owner';

const ASKERS = 20;

/** An asker that connects and is gone at once, as one killed or stopped with Ctrl-C while waiting. */
function askAndVanish(path: string): Promise<void> {
  return new Promise((done) => {
    const socket = createConnection(path, () => {
      socket.destroy();
      done();
    });
    socket.on('error', () => done());
  });
}

describe('the claim on an embedded database directory', () => {
  const directory = () => mkdtempSync(join(tmpdir(), 'embedded-claim-'));

  it('is held by one claimant at a time, told to askers, and free again once released', async () => {
    const dataDir = directory();
    const claims = await Promise.all([claimDataDir(dataDir), claimDataDir(dataDir), claimDataDir(dataDir)]);
    const held = claims.filter((claim) => claim !== undefined);
    expect(held).toHaveLength(1);
    expect(await askOwner(dataDir)).toBe('wait');
    held[0]!.publish('mongodb://127.0.0.1:27999', 'ferretdb');
    expect(await askOwner(dataDir)).toEqual({ pid: process.pid, uri: 'mongodb://127.0.0.1:27999', engine: 'ferretdb' });
    held[0]!.withdraw();
    expect(await askOwner(dataDir)).toBe('wait');
    await held[0]!.release();
    expect(await askOwner(dataDir)).toBeUndefined();
    const again = await claimDataDir(dataDir);
    expect(again).toBeDefined();
    await again!.release();
  });

  it('outlives askers that vanish before reading the answer', async () => {
    const dataDir = directory();
    const claim = (await claimDataDir(dataDir))!;
    claim.publish('mongodb://127.0.0.1:27999', 'ferretdb');
    await Promise.all(Array.from({ length: ASKERS }, () => askAndVanish(claimSocketOf(dataDir))));
    // A socket error the owner left unhandled would have failed this test as an uncaught exception by now.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await askOwner(dataDir)).toMatchObject({ uri: 'mongodb://127.0.0.1:27999' });
    await claim.release();
  });

  it('an owner that does not answer (stopped with Ctrl-Z) makes askers wait, not hang', async () => {
    const dataDir = directory();
    const script = `require(${JSON.stringify(join(__dirname, 'embedded-owner'))}).claimDataDir(${JSON.stringify(dataDir)}).then((claim) => {
      claim.publish('mongodb://127.0.0.1:27999', 'ferretdb');
      process.stdout.write('claimed');
      setInterval(() => {}, 1000);
    });`;
    const owner = runScript(script);
    try {
      await owner.printed(/claimed/);
      owner.child.kill('SIGSTOP');
      expect(await askOwner(dataDir)).toBe('wait');
    } finally {
      owner.child.kill('SIGKILL');
    }
  });
});
