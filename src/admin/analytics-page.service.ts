import { Injectable } from '@nestjs/common';
import type { SessionLengths } from '../session-events/session-event.schema';
import { AdminTimeFormat, formatDuration } from './admin-time';
import type { AnalyticsRange, AnalyticsReport, EndingCounts, SignInCounts } from './analytics.service';
import { ANALYTICS_RANGES, AnalyticsService } from './analytics.service';
import type { LengthQuantiles, Series, TimeAxis } from './analytics-plots';

const SIGN_IN_SERIES: readonly Series<keyof SignInCounts>[] = [
  { key: 'succeeded', label: 'succeeded', color: '#2e7d32' },
  { key: 'failed', label: 'failed', color: '#ef6c00' },
  { key: 'locked', label: 'locked', color: '#c62828' },
];

const ENDING_SERIES: readonly Series<keyof EndingCounts>[] = [
  { key: 'logout', label: 'sign-out', color: '#1565c0' },
  { key: 'inactivity', label: 'inactivity', color: '#6a1b9a' },
  { key: 'absolute', label: 'absolute lifetime', color: '#00838f' },
  { key: 'revoked', label: 'revoked', color: '#8d6e63' },
  { key: 'limit', label: 'session limit', color: '#9e9d24' },
  { key: 'device', label: 'device change', color: '#c62828' },
];

const ACTIVE_COLOR = '#2454d6';

const RANGE_NAMES: Record<AnalyticsRange, string> = { '24h': 'the last 24 hours', '7d': 'the last 7 days', '30d': 'the last 30 days' };

/** A chart's markup, or the sentence that stands in for it when there is nothing to draw. */
export interface ChartView {
  svg?: string;
  empty?: string;
}

/** Everything /admin/analytics shows: the report, its charts, and its tables with times people read. */
export interface AnalyticsPage {
  report: AnalyticsReport;
  range: AnalyticsRange;
  ranges: AnalyticsRange[];
  rangeName: string;
  timeZone: string;
  from: string;
  to: string;
  charts: { signIns: ChartView; endings: ChartView; active: ChartView; sessionLength: ChartView };
  tables: {
    signIns: ({ when: string } & SignInCounts)[];
    endings: ({ when: string } & EndingCounts)[];
    active: { when: string; active: number }[];
  };
  sessionLength: { median?: string; p90?: string };
}

/** The analytics page: charts drawn on the server, times in the configured zone. */
@Injectable()
export class AnalyticsPageService {
  constructor(
    private readonly analytics: AnalyticsService,
    private readonly time: AdminTimeFormat,
  ) {}

  async page(range: AnalyticsRange): Promise<AnalyticsPage> {
    // Loaded when a chart is first drawn: Plot and the DOM it draws in would otherwise add to the
    // memory of every instance, also those that never serve this page (docs/performance.md).
    const [report, { lineChart, sessionLengthChart, stackedBarsChart }] = await Promise.all([
      this.analytics.report(range),
      import('./analytics-plots'),
    ]);
    const { signIns, endings, activeSessions } = report.series;
    // The line ends on a count made a moment after the report's end.
    const to = new Date(Math.max(Date.parse(report.to), ...activeSessions.map((sample) => Date.parse(sample.at))));
    const axis: TimeAxis = { from: new Date(report.from), to, bucket: report.bucket, time: this.time };
    const rangeName = RANGE_NAMES[range];
    const { medianMs, p90Ms } = report.sessionLength;
    const box = boxOf(report.sessionLength);
    const whenOf = <T extends { at: string }>({ at, ...rest }: T) => ({ when: this.time.format(at, report.bucket), ...rest });
    return {
      report,
      range,
      ranges: Object.keys(ANALYTICS_RANGES) as AnalyticsRange[],
      rangeName,
      timeZone: this.time.zone,
      from: this.time.format(report.from),
      to: this.time.format(report.to),
      charts: {
        signIns: chartOr(sum(report.totals.signIns) > 0, `No sign-ins in ${rangeName}`, () =>
          stackedBarsChart(
            { name: 'sign-ins', label: `Sign-ins per ${report.bucket}: succeeded, failed, locked`, counts: 'sign-ins' },
            signIns,
            SIGN_IN_SERIES,
            axis,
          ),
        ),
        endings: chartOr(sum(report.totals.endings) > 0, `No sessions ended in ${rangeName}`, () =>
          stackedBarsChart(
            { name: 'endings', label: `Sessions ended per ${report.bucket}, by how`, counts: 'sessions ended' },
            endings,
            ENDING_SERIES,
            axis,
          ),
        ),
        active: {
          svg: lineChart(
            { name: 'active', label: `Active sessions per ${report.bucket}, and now`, counts: 'active sessions', one: 'active session' },
            activeSessions.map((sample) => ({ at: sample.at, value: sample.active })),
            ACTIVE_COLOR,
            axis,
          ),
        },
        sessionLength: box
          ? {
              svg: sessionLengthChart(
                { name: 'session-length', label: 'How long ended sessions lasted: 5th percentile, quartiles, median, 95th percentile' },
                box,
              ),
            }
          : { empty: `No sessions ended in ${rangeName}` },
      },
      tables: {
        signIns: signIns.map(whenOf),
        endings: endings.map(whenOf),
        active: activeSessions.map(({ at, active }) => ({ when: this.time.format(at), active })),
      },
      sessionLength: {
        median: medianMs === undefined ? undefined : formatDuration(medianMs),
        p90: p90Ms === undefined ? undefined : formatDuration(p90Ms),
      },
    };
  }
}

function sum(counts: SignInCounts | EndingCounts): number {
  return Object.values(counts).reduce((total: number, value: number) => total + value, 0);
}

/** The five figures a box plot needs, when some session has ended. */
function boxOf({ count, p5Ms, p25Ms, medianMs, p75Ms, p95Ms }: SessionLengths): LengthQuantiles | undefined {
  if (count === 0 || p5Ms === undefined || p25Ms === undefined || medianMs === undefined || p75Ms === undefined || p95Ms === undefined)
    return undefined;
  return { p5Ms, p25Ms, medianMs, p75Ms, p95Ms };
}

function chartOr(drawable: boolean, empty: string, draw: () => string): ChartView {
  return drawable ? { svg: draw() } : { empty };
}
