import { randomFill } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';
import { promisify } from 'node:util';

const TASKS = '/proc/self/task';

/**
 * The threads of this process (Linux: each is a task with its own id); empty
 * where /proc does not list them.
 */
export function threadIds(): number[] {
  try {
    return readdirSync(TASKS).map(Number);
  } catch {
    return [];
  }
}

/**
 * Starts libuv's thread pool, which starts all its threads with its first
 * task, and returns their ids: the threads that task added. Called before
 * anything else starts threads (the development logger's worker, for one); if
 * the pool was already running, none.
 */
export async function startThreadPool(): Promise<number[]> {
  const before = new Set(threadIds());
  await promisify(randomFill)(new Uint8Array(1));
  return threadIds().filter((thread) => !before.has(thread));
}

/**
 * Gives `threads` the niceness `nice` (a lower priority), as far as the
 * system lets it: on Linux a thread's priority is its own, set through its id.
 * Returns how many were changed.
 */
export function lowerPriority(threads: number[], nice: number): number {
  let changed = 0;
  for (const thread of threads) {
    try {
      setPriority(thread, nice);
      changed++;
    } catch {
      // Gone meanwhile, or not allowed here: it keeps its priority.
    }
  }
  return changed;
}
