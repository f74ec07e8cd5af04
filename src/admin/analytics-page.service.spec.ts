import { AdminTimeFormat } from './admin-time';
import { AnalyticsPageService } from './analytics-page.service';
import type { AnalyticsReport, AnalyticsService } from './analytics.service';

const NOW = '2026-11-30T13:05:00.000Z';

function reportWith(changes: Partial<AnalyticsReport> = {}): AnalyticsReport {
  const noSignIns = { succeeded: 0, failed: 0, locked: 0 };
  const noEndings = { logout: 0, inactivity: 0, absolute: 0, revoked: 0, limit: 0, device: 0 };
  const noSecondFactors = { succeeded: 0, failed: 0 };
  return {
    range: '24h',
    bucket: 'hour',
    from: '2026-11-29T13:05:00.000Z',
    to: NOW,
    series: {
      signIns: [
        { at: '2026-11-30T12:00:00.000Z', ...noSignIns },
        { at: '2026-11-30T13:00:00.000Z', ...noSignIns },
      ],
      secondFactor: [
        { at: '2026-11-30T12:00:00.000Z', ...noSecondFactors },
        { at: '2026-11-30T13:00:00.000Z', ...noSecondFactors },
      ],
      endings: [
        { at: '2026-11-30T12:00:00.000Z', ...noEndings },
        { at: '2026-11-30T13:00:00.000Z', ...noEndings },
      ],
      activeSessions: [{ at: NOW, active: 0 }],
    },
    totals: {
      signIns: noSignIns,
      secondFactor: { ...noSecondFactors, byMethod: { totp: noSecondFactors, recovery: noSecondFactors, passkey: noSecondFactors } },
      endings: noEndings,
      revokedBy: { user: 0, admin: 0, system: 0 },
    },
    sessionLength: { count: 0 },
    failedSignIns: { topUserAgents: [], topIps: [] },
    ...changes,
  };
}

function pageService(report: AnalyticsReport, timeZone = 'UTC'): AnalyticsPageService {
  const analytics = { report: async () => report } as unknown as AnalyticsService;
  return new AnalyticsPageService(analytics, new AdminTimeFormat(timeZone));
}

describe('AnalyticsPageService', () => {
  it('says what is missing instead of drawing empty charts', async () => {
    const sut = await pageService(reportWith()).page('24h');
    expect(sut.charts.signIns).toEqual({ empty: 'No sign-ins in the last 24 hours' });
    expect(sut.charts.endings).toEqual({ empty: 'No sessions ended in the last 24 hours' });
    expect(sut.charts.sessionLength).toEqual({ empty: 'No sessions ended in the last 24 hours' });
    expect(sut.charts.active.svg).toContain('data-chart="active"');
  });

  it('shows times in the configured zone, and names it', async () => {
    const sut = await pageService(reportWith(), 'Europe/Paris').page('24h');
    expect(sut.timeZone).toBe('Europe/Paris');
    expect(sut.tables.signIns.map((row) => row.when)).toEqual(['Mon 13:00', 'Mon 14:00']);
    expect(sut.to).toBe('Mon 14:05');
    expect(JSON.stringify(sut.tables)).not.toMatch(/\d{4}-\d\d-\d\dT/);
  });

  it('draws sign-ins once there are some', async () => {
    const report = reportWith();
    report.series.signIns[1].succeeded = 2;
    report.totals.signIns.succeeded = 2;
    const sut = await pageService(report).page('24h');
    expect(sut.charts.signIns.svg).toContain('<title>Mon 13:00: 2 succeeded</title>');
  });

  it('draws session lengths as a box plot once a session has ended', async () => {
    const sessionLength = { count: 3, p5Ms: 60_000, p25Ms: 120_000, medianMs: 300_000, p75Ms: 600_000, p90Ms: 900_000, p95Ms: 900_000 };
    const sut = await pageService(reportWith({ sessionLength })).page('24h');
    expect(sut.charts.sessionLength.svg).toContain('data-chart="session-length"');
    expect(sut.charts.sessionLength.svg).toContain('<title>half ended within 5 min</title>');
    expect(sut.sessionLength).toEqual({ median: '5 min', p90: '15 min' });
  });
});
