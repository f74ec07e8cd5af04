import { startThreadPool, threadIds } from './thread-priority';

describe('thread priority', () => {
  it('finds no pool threads to start once the pool is running', async () => {
    await startThreadPool();
    const before = threadIds();
    expect(await startThreadPool()).toEqual([]);
    expect(threadIds()).toEqual(before);
  });
});
