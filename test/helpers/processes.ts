import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { Socket } from 'node:net';

/** A process as Linux's /proc shows it. */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** Its process group: a terminal's Ctrl-C signals every process of the foreground group. */
  pgid: number;
  command: string;
}

/** The live process `pid`, or undefined when it is gone or a zombie. */
export function processInfo(pid: number): ProcessInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name, in parentheses, may itself hold spaces and parentheses.
    const [state, ppid, pgid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (state === 'Z') return undefined;
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    return { pid, ppid: Number(ppid), pgid: Number(pgid), command };
  } catch {
    return undefined; // gone while we looked
  }
}

/** Every live process under `root` (children, their children…), read from /proc. Zombies count as gone. */
export function descendants(root: number): ProcessInfo[] {
  const all = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map((entry) => processInfo(Number(entry)))
    .filter((info): info is ProcessInfo => info !== undefined);
  const found: ProcessInfo[] = [];
  const visit = (pid: number) => {
    for (const child of all.filter((info) => info.ppid === pid)) {
      found.push(child);
      visit(child.pid);
    }
  };
  visit(root);
  return found;
}

/** Alive and not a zombie (a zombie's parent may be a PID 1 that never reaps). */
export function isAlive(pid: number): boolean {
  return processInfo(pid) !== undefined;
}

/** The commands of `processes` still alive after `timeoutMs`; none as soon as all are gone. */
export async function survivorsAfter(processes: ProcessInfo[], timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  const alive = () => processes.filter((info) => isAlive(info.pid));
  while (alive().length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  return alive().map((info) => `${info.pid} ${info.command}`);
}

/** True when nothing accepts connections on 127.0.0.1:port. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
    socket.connect(port, '127.0.0.1');
  });
}

/** The process listening on 127.0.0.1:`port` (ss, as root sees every socket's owner), if any. */
export function listenerOf(port: number): number | undefined {
  const line = execFileSync('ss', ['-Hltnp', `sport = :${port}`]).toString();
  const pid = /pid=(\d+)/.exec(line)?.[1];
  return pid === undefined ? undefined : Number(pid);
}
