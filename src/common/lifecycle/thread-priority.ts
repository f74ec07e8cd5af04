import { execFile } from 'node:child_process';
import { randomFill } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';
import { promisify } from 'node:util';

const TASKS = '/proc/self/task';
/** A `chrt` that has not answered by then is given up on: the thread keeps its niceness. */
const CHRT_TIMEOUT_MS = 5_000;

/** Runs a program and waits for it to exit; rejects when it cannot start or fails. */
export type RunProgram = (file: string, args: string[], options: { timeout: number }) => Promise<unknown>;

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

/**
 * Puts `threads` under Linux's SCHED_IDLE policy, through util-linux's `chrt`
 * (Node has no call for it): they run on the CPU time the other threads of
 * their cgroup do not want, and such a thread that wakes takes the core from
 * them at once, where a niceness only shrinks their share and lets them finish
 * their slice first. Returns how many were changed and, if any was not, why
 * the first was not (`chrt` missing, refused, or failing to start at all).
 */
export async function idlePolicy(
  threads: number[],
  runProgram: RunProgram = promisify(execFile),
): Promise<{ changed: number; failure?: string }> {
  const results = await Promise.allSettled(
    // Inside an async function, so that a spawn that throws at once is a refusal like any other, not a crash.
    threads.map(async (thread) => runProgram('chrt', ['--idle', '--pid', '0', String(thread)], { timeout: CHRT_TIMEOUT_MS })),
  );
  const refused = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  return {
    changed: results.length - results.filter((result) => result.status === 'rejected').length,
    ...(refused ? { failure: String((refused.reason as Error)?.message ?? refused.reason).split('\n')[0] } : {}),
  };
}
