/**
 * The fault schedule, spread over the run: the database SIGKILLed and started
 * again on the same port and data (a few seconds down), one instance sent
 * SIGTERM and started again, the other SIGKILLed and started again. Each
 * fault's window runs from its signal until it recovered plus a grace.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { AppInstance, FaultKind, FaultWindow, SoakDatabase } from './cluster';
import { DATABASE_DOWN_SECONDS, DATABASE_GRACE_MS, FAULT_SCHEDULE, INSTANCE_GRACE_MS, KILLED_INSTANCE_RESTART_MS } from './settings';

export interface PlannedFault {
  /** When, from the start of the run. */
  atMs: number;
  kind: FaultKind;
  instance?: number;
}

/** One SIGTERM, one SIGKILL (of the other instance), and `databaseKills` database kills when the database is ours. */
export function planFaults(runMs: number, databaseKills: number, database: SoakDatabase): PlannedFault[] {
  const databaseAt = database.killable ? FAULT_SCHEDULE.database.slice(0, databaseKills) : [];
  return [
    { atMs: FAULT_SCHEDULE.sigterm * runMs, kind: 'instance SIGTERM' as const, instance: 0 },
    { atMs: FAULT_SCHEDULE.sigkill * runMs, kind: 'instance SIGKILL' as const, instance: 1 },
    ...databaseAt.map((share) => ({ atMs: share * runMs, kind: 'database SIGKILL' as const })),
  ].sort((a, b) => a.atMs - b.atMs);
}

/** Injects the planned faults in turn, recording each window in `windows` from its signal on. */
export async function injectFaults(
  plan: PlannedFault[],
  startedAt: number,
  database: SoakDatabase,
  instances: AppInstance[],
  windows: FaultWindow[],
  log: (message: string) => void,
): Promise<void> {
  for (const fault of plan) {
    await sleep(Math.max(0, startedAt + fault.atMs - Date.now()));
    const window: FaultWindow = { kind: fault.kind, instance: fault.instance, start: Date.now(), until: Infinity };
    windows.push(window);
    const since = () => `${((Date.now() - startedAt) / 1000).toFixed(1)} s`;
    if (fault.kind === 'database SIGKILL') {
      log(`  ${since()}: database SIGKILL, down ${DATABASE_DOWN_SECONDS} s`);
      await database.kill();
      await sleep(DATABASE_DOWN_SECONDS * 1000);
      await database.restart();
      window.recovered = Date.now();
      window.until = window.recovered + DATABASE_GRACE_MS;
    } else {
      const instance = instances[fault.instance ?? 0];
      log(`  ${since()}: instance ${instance.name} ${fault.kind.split(' ')[1]}`);
      if (fault.kind === 'instance SIGTERM') {
        await instance.stop('SIGTERM');
      } else {
        await instance.stop('SIGKILL');
        await sleep(KILLED_INSTANCE_RESTART_MS);
      }
      await instance.start();
      window.recovered = Date.now();
      window.until = window.recovered + INSTANCE_GRACE_MS;
    }
    log(`  ${since()}: recovered`);
  }
}
