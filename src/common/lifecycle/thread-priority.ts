import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';

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
