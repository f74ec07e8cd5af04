import type { AnalyticsReport } from './analytics.service';

const CSV_COLUMNS = ['at', 'succeeded', 'failed', 'locked', 'logout', 'inactivity', 'absolute', 'revoked', 'limit', 'device', 'active'];

/** The report's series as CSV: one row per hour or day, times as ISO stamps. */
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
