import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

export interface Script {
  child: ChildProcessWithoutNullStreams;
  /** Everything it printed so far. */
  output(): string;
  /** The first match of `pattern` in what it prints; rejects when it ends before printing one. */
  printed(pattern: RegExp): Promise<RegExpExecArray>;
  /** Resolves once it has ended and its output is all read. */
  closed: Promise<void>;
}

/** `code` (TypeScript, not type-checked) run as its own Node process from the project root, as `npm run` scripts run. */
export function runScript(code: string): Script {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', code], { cwd: ROOT });
  let output = '';
  const checks = new Set<() => void>();
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    for (const check of checks) check();
  });
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return {
    child,
    output: () => output,
    closed,
    printed: (pattern) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(output);
          if (match && checks.delete(check)) resolve(match);
        };
        checks.add(check);
        check();
        void closed.then(() => {
          if (checks.delete(check))
            reject(new Error(`the process ended (${child.exitCode ?? child.signalCode}) before printing ${pattern}`));
        });
      }),
  };
}
