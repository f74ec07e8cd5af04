/** The soak's figures: what it prints as a table and writes as JSON. */
import type { Exchange } from './browser';
import { faultDuring, FaultWindow } from './cluster';
import { percentile, RssFigure, Violation, VIOLATION_KINDS, ViolationKind } from './judge';
import { INSTANCE_NAMES, VIOLATIONS_LISTED_PER_KIND } from './settings';

export interface RouteFigure {
  route: string;
  requests: number;
  p50Ms: number;
  p99Ms: number;
}

export interface SoakFigures {
  requests: Record<string, number>;
  replays: number;
  /** Answers that had to serve their session (surely live), and answers that had to refuse it (known ended or past its deadline). */
  asserted: { live: number; ended: number };
  sessionsSignedIn: number;
  endingsRecorded: Record<string, number>;
  faults: { kind: string; instance?: string; atS: number; recoveredAtS?: number; windowUntilS: number }[];
  violations: Record<string, number>;
  routes: RouteFigure[];
  rss: RssFigure[];
}

export function figuresOf(
  exchanges: Exchange[],
  faults: FaultWindow[],
  violations: Violation[],
  rss: RssFigure[],
  endings: { type: string; reason?: string }[],
  asserted: { live: number; ended: number },
  startedAt: number,
): SoakFigures {
  const requests: Record<string, number> = { total: exchanges.length };
  const count = (key: string) => (requests[key] = (requests[key] ?? 0) + 1);
  for (const exchange of exchanges) {
    if (exchange.status === undefined) count('no answer');
    else if (exchange.status >= 500) count(`${exchange.status} ${exchange.code ?? ''}`.trim());
    else count(`${Math.floor(exchange.status / 100)}xx`);
  }
  // Latency outside fault windows: inside them it is the outage's (a server selection's second).
  const byRoute = new Map<string, number[]>();
  for (const exchange of exchanges) {
    if (exchange.status === undefined || faultDuring(faults, exchange.instance, exchange.start, exchange.end)) continue;
    const times = byRoute.get(exchange.route) ?? [];
    times.push(exchange.end - exchange.start);
    byRoute.set(exchange.route, times);
  }
  const endingsRecorded: Record<string, number> = {};
  for (const { type, reason } of endings) {
    const key = type === 'session.expired' || type === 'session.revoked' ? `${type}/${reason}` : type;
    endingsRecorded[key] = (endingsRecorded[key] ?? 0) + 1;
  }
  const seconds = (at: number) => Math.round((at - startedAt) / 100) / 10;
  return {
    requests,
    replays: exchanges.filter((exchange) => exchange.browser === 'probe').length,
    asserted,
    sessionsSignedIn: exchanges.filter((exchange) => exchange.route === 'POST /api/auth/login' && exchange.status === 200).length,
    endingsRecorded,
    faults: faults.map((fault) => ({
      kind: fault.kind,
      instance: fault.instance === undefined ? undefined : INSTANCE_NAMES[fault.instance],
      atS: seconds(fault.start),
      recoveredAtS: fault.recovered === undefined ? undefined : seconds(fault.recovered),
      windowUntilS: seconds(fault.until),
    })),
    violations: Object.fromEntries(
      Object.keys(VIOLATION_KINDS).map((kind) => [kind, violations.filter((violation) => violation.kind === kind).length]),
    ),
    routes: [...byRoute]
      .map(([route, ms]) => ({ route, requests: ms.length, p50Ms: percentile(ms, 50), p99Ms: percentile(ms, 99) }))
      .sort((a, b) => b.requests - a.requests),
    rss: rss,
  };
}

const pad = (text: string | number, width: number) => String(text).padEnd(width);
const padLeft = (text: string | number, width: number) => String(text).padStart(width);
const thousands = (value: number) => value.toLocaleString('en');

export function table(figures: SoakFigures, violations: Violation[]): string {
  const lines: string[] = [];
  const { total, ...classes } = figures.requests;
  lines.push(
    `requests      ${thousands(total)} (${Object.entries(classes)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, value]) => `${key} ${thousands(value)}`)
      .join(', ')}); ${thousands(figures.replays)} of them replays of ended sessions`,
  );
  lines.push(
    `sessions      ${thousands(figures.sessionsSignedIn)} sign-ins; endings recorded: ${Object.entries(figures.endingsRecorded)
      .sort(([, a], [, b]) => b - a)
      .map(([key, value]) => `${key} ${thousands(value)}`)
      .join(', ')}`,
  );
  lines.push(
    `checked       ${thousands(figures.asserted.live)} answers that had to serve their session, ${thousands(figures.asserted.ended)} that had to refuse it`,
  );
  lines.push('', 'faults (seconds from the start; the window is what the checks excuse)');
  for (const fault of figures.faults) {
    lines.push(
      `  ${pad(`${fault.kind}${fault.instance ? ` ${fault.instance}` : ''}`, 20)} at +${fault.atS} s, recovered +${fault.recoveredAtS ?? '—'} s, window until +${fault.windowUntilS} s`,
    );
  }
  lines.push('', `violations    ${violations.length}`);
  for (const [kind, description] of Object.entries(VIOLATION_KINDS)) {
    const found = violations.filter((violation) => violation.kind === (kind as ViolationKind));
    lines.push(`  ${pad(kind, 18)} ${padLeft(found.length, 5)}  ${description}`);
    for (const violation of found.slice(0, VIOLATIONS_LISTED_PER_KIND)) lines.push(`      ${violation.detail}`);
    if (found.length > VIOLATIONS_LISTED_PER_KIND)
      lines.push(`      … and ${found.length - VIOLATIONS_LISTED_PER_KIND} more (all in the JSON)`);
  }
  lines.push(
    '',
    `${pad('route (answers outside fault windows)', 38)} ${padLeft('requests', 9)} ${padLeft('p50 ms', 8)} ${padLeft('p99 ms', 8)}`,
  );
  for (const route of figures.routes) {
    lines.push(`${pad(route.route, 38)} ${padLeft(thousands(route.requests), 9)} ${padLeft(route.p50Ms, 8)} ${padLeft(route.p99Ms, 8)}`);
  }
  lines.push('', `${pad('RSS', 10)} ${padLeft('first half', 16)} ${padLeft('second half', 16)} ${padLeft('change', 8)}  compared since`);
  for (const rss of figures.rss) {
    lines.push(
      `instance ${pad(rss.instance, 2)}${padLeft(`${rss.firstMb} MB`, 15)} ${padLeft(`${rss.secondMb} MB`, 16)} ${padLeft(`${rss.change > 0 ? '+' : ''}${rss.change}%`, 8)}  ${rss.since} (at ${rss.comparedAt[0]} and ${rss.comparedAt[1]})${rss.judged ? '' : '; not judged: the second half is under a minute'}`,
    );
  }
  return lines.join('\n');
}
