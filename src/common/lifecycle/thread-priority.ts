import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';
import { promisify } from 'node:util';

const TASKS = '/proc/self/task';
const run = promisify(execFile);

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

/**
 * Puts `threads` under Linux's SCHED_IDLE policy, through util-linux's `chrt`
 * (Node has no call for it): they run on the CPU time no other thread wants,
 * and any other thread that wakes takes the core from them at once, where a
 * niceness only shrinks their share and lets them finish their slice first.
 * Returns how many were changed; none where `chrt` is missing or refused.
 */
export async function idlePolicy(threads: number[]): Promise<number> {
  const results = await Promise.allSettled(threads.map((thread) => run('chrt', ['--idle', '--pid', '0', String(thread)])));
  return results.filter((result) => result.status === 'fulfilled').length;
}
