import type { AnalyticsReport } from './analytics.service';

const WIDTH = 720;
const HEIGHT = 160;
const GAP = 1;

export interface ChartBar {
  x: number;
  y: number;
  width: number;
  height: number;
  series: string;
  label: string;
}

export interface BarChart {
  width: number;
  height: number;
  max: number;
  bars: ChartBar[];
}

/**
 * A stacked bar chart as plain numbers, for an SVG drawn on the server (no
 * script, no inline style: the CSP allows neither). One bar per row, one
 * segment per series, each with a title that says its value.
 */
export function stackedBars<K extends string>(rows: ({ at: string } & Record<K, number>)[], series: readonly K[]): BarChart {
  const totals = rows.map((row) => series.reduce((sum, key) => sum + row[key], 0));
  const max = Math.max(1, ...totals);
  const slot = WIDTH / Math.max(1, rows.length);
  const bars: ChartBar[] = [];
  rows.forEach((row, index) => {
    let top = HEIGHT;
    for (const key of series) {
      const height = (row[key] / max) * HEIGHT;
      if (height === 0) continue;
      top -= height;
      bars.push({ x: index * slot, y: top, width: Math.max(1, slot - GAP), height, series: key, label: `${row.at}: ${row[key]} ${key}` });
    }
  });
  return { width: WIDTH, height: HEIGHT, max, bars };
}

const CSV_COLUMNS = ['at', 'succeeded', 'failed', 'locked', 'logout', 'inactivity', 'absolute', 'revoked', 'limit', 'device', 'active'];

/** The same series as CSV: one row per hour or day. */
export function analyticsCsv(report: AnalyticsReport): string {
  const active = new Map(report.series.activeSessions.map((sample) => [sample.at, sample.active]));
  const lines = report.series.signIns.map((signIns, index) => {
    const endings = report.series.endings[index];
    const { at, succeeded, failed, locked } = signIns;
    const { logout, inactivity, absolute, revoked, limit, device } = endings;
    return [at, succeeded, failed, locked, logout, inactivity, absolute, revoked, limit, device, active.get(at) ?? ''].join(',');
  });
  return [CSV_COLUMNS.join(','), ...lines].join('\n') + '\n';
}
