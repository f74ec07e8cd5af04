import { idlePolicy, startThreadPool, threadIds } from './thread-priority';

/** Above any thread id Linux hands out (pid_max is at most 2^22). */
const NO_SUCH_THREAD = 2 ** 22 + 1;

describe('thread priority', () => {
  it('counts a thread chrt refuses as unchanged and says why', async () => {
    const result = await idlePolicy([NO_SUCH_THREAD]);
    expect(result.changed).toBe(0);
    expect(result.failure).toMatch(/chrt/);
  });

  it('counts a spawn that throws at once as a refusal, not a crash', async () => {
    const throwsAtOnce = () => {
      throw new Error('spawn EPERM');
    };
    await expect(idlePolicy([1, 2], throwsAtOnce)).resolves.toEqual({ changed: 0, failure: 'spawn EPERM' });
  });

  it('counts the threads whose chrt succeeded', async () => {
    const onlyTheFirst = (_file: string, args: string[]) =>
      args.at(-1) === '1' ? Promise.resolve() : Promise.reject(new Error('chrt: failed to set pid 2'));
    await expect(idlePolicy([1, 2], onlyTheFirst)).resolves.toEqual({ changed: 1, failure: 'chrt: failed to set pid 2' });
  });

  it('finds no pool threads to start once the pool is running', async () => {
    await startThreadPool();
    const before = threadIds();
    expect(await startThreadPool()).toEqual([]);
    expect(threadIds()).toEqual(before);
  });
});
