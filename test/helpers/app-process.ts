import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../../src/database/ports';
import { sleep } from './agents';
import { listenerOf } from './processes';

const ROOT = join(__dirname, '..', '..');
/**
 * How long a process may take to answer /health/ready: ts-node compiles the
 * app at start, and on a busy 2-core machine two of them booting beside a
 * test run take many times what they take alone. Tests that start processes
 * take their timeouts from this (startTimeouts).
 */
export const APP_START_TIMEOUT_MS = 90_000;

/** A Jest timeout for a test or hook that starts `processes` app processes one after another, plus `rest` for its own work. */
export function startTimeouts(processes: number, rest = 30_000): number {
  return processes * APP_START_TIMEOUT_MS + rest;
}

export interface AppProcess {
  url: string;
  process: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** The real service as its own OS process (`src/main.ts`), listening on a free loopback port. */
export async function startAppProcess(env: Record<string, string>): Promise<AppProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, NODE_ENV: 'test', LOG_LEVEL: 'warn', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + APP_START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`app process exited with ${child.exitCode}:\n${output}`);
    // Only our child's answer counts: while it compiles, another process may be listening on the port it was given.
    const ready =
      listenerOf(port) === child.pid &&
      (await fetch(`${url}/health/ready`).then(
        (r) => r.ok,
        () => false,
      ));
    if (ready) {
      return {
        url,
        process: child,
        output: () => output,
        stop: async () => {
          if (child.exitCode === null) child.kill('SIGTERM');
          await exited;
        },
      };
    }
    await sleep(200);
  }
  child.kill('SIGKILL');
  throw new Error(
    `app process did not answer GET ${url}/health/ready with 200 within ${APP_START_TIMEOUT_MS / 1000} s; its output:\n${output}`,
  );
}
