import { AppException } from '../common/errors/app.exception';
import { PasswordHashQueue } from './password-hash-queue';

/** A hash that finishes when the test says so. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

function observed() {
  const seen = { waiting: [] as number[], hashed: 0, shed: 0 };
  return {
    seen,
    observer: {
      waiting: (count: number) => seen.waiting.push(count),
      hashed: () => seen.hashed++,
      shed: () => seen.shed++,
    },
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('PasswordHashQueue', () => {
  it('never hashes more than `concurrency` at once, and hands slots over in arrival order', async () => {
    const { observer } = observed();
    const queue = new PasswordHashQueue(2, 10, observer);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const gates = Array.from({ length: 6 }, gate);
    const work = gates.map((g, i) =>
      queue.withPlace((place) =>
        place.run(async () => {
          running++;
          most = Math.max(most, running);
          order.push(i);
          await g.opened;
          running--;
        }),
      ),
    );
    await tick();
    expect(order).toEqual([0, 1]);
    for (const g of gates) {
      g.open();
      await tick();
    }
    await Promise.all(work);
    expect(most).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('refuses at once with SYS_9003 and Retry-After when every place is taken, without running the work', async () => {
    const { seen, observer } = observed();
    const queue = new PasswordHashQueue(1, 2, observer);
    const hold = gate();
    const admitted = Array.from({ length: 3 }, () => queue.withPlace((place) => place.run(() => hold.opened)));
    let ran = false;
    const refused = await queue
      .withPlace(async () => {
        ran = true;
      })
      .catch((error: unknown) => error);
    expect(ran).toBe(false);
    expect(refused).toBeInstanceOf(AppException);
    expect(refused).toMatchObject({ code: 'SYS_9003', headers: { 'Retry-After': expect.stringMatching(/^[1-9]\d*$/) } });
    expect(seen.shed).toBe(1);
    expect(seen.waiting.at(-1)).toBe(2);
    hold.open();
    await Promise.all(admitted);
    expect(seen.waiting.at(-1)).toBe(0);
    await expect(queue.withPlace(async () => 'again')).resolves.toBe('again');
  });

  it('gives the place and the slot back when the work or the hash fails', async () => {
    const { observer } = observed();
    const queue = new PasswordHashQueue(1, 0, observer);
    await expect(queue.withPlace(() => Promise.reject(new Error('before hashing')))).rejects.toThrow('before hashing');
    await expect(queue.withPlace((place) => place.run(() => Promise.reject(new Error('hash failed'))))).rejects.toThrow('hash failed');
    await expect(queue.withPlace((place) => place.run(async () => 'hashed'))).resolves.toBe('hashed');
  });

  it('admits a parallel burst up to concurrency + queueMax and refuses the rest', async () => {
    const { seen, observer } = observed();
    const queue = new PasswordHashQueue(2, 3, observer);
    const hold = gate();
    const burst = Array.from({ length: 20 }, () => queue.withPlace((place) => place.run(() => hold.opened.then(() => 'ok'))));
    hold.open();
    const results = await Promise.allSettled(burst);
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(5);
    expect(seen.shed).toBe(15);
    expect(seen.hashed).toBe(5);
  });
});
