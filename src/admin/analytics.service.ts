import { Injectable } from '@nestjs/common';
import type { SecondFactorMethod } from '../metrics/metrics.service';
import type { EventCount, SessionLengths } from '../session-events/session-event.schema';
import { SessionEventQueries } from '../session-events/session-event-queries.service';
import { SessionStats } from '../session-events/session-stats.service';
import { Bucket, BUCKET_MS, bucketsOf } from '../session-events/time-buckets';
import { ActiveSessionsNow } from './active-sessions-now';

export const ANALYTICS_RANGES = {
  '24h': { ms: 24 * BUCKET_MS.hour, bucket: 'hour' },
  '7d': { ms: 7 * BUCKET_MS.day, bucket: 'day' },
  '30d': { ms: 30 * BUCKET_MS.day, bucket: 'day' },
} as const;
export type AnalyticsRange = keyof typeof ANALYTICS_RANGES;
const TOP_FAILED = 5;

export interface SignInCounts {
  succeeded: number;
  failed: number;
  locked: number;
}

export interface EndingCounts {
  logout: number;
  inactivity: number;
  absolute: number;
  revoked: number;
  limit: number;
  device: number;
}

export interface AnalyticsReport {
  range: AnalyticsRange;
  bucket: Bucket;
  from: string;
  to: string;
  series: {
    signIns: ({ at: string } & SignInCounts)[];
    secondFactor: ({ at: string } & SecondFactorCounts)[];
    endings: ({ at: string } & EndingCounts)[];
    activeSessions: { at: string; active: number }[];
  };
  totals: {
    signIns: SignInCounts;
    secondFactor: SecondFactorCounts & { byMethod: SecondFactorMethods };
    endings: EndingCounts;
    revokedBy: { user: number; admin: number; system: number };
  };
  sessionLength: SessionLengths;
  failedSignIns: { topUserAgents: { value: string; count: number }[]; topIps: { value: string; count: number }[] };
}

/** Sign-ins that took a second step: completed, and codes refused there. */
export interface SecondFactorCounts {
  succeeded: number;
  failed: number;
}

/** Second-step outcomes by method. */
export type SecondFactorMethods = Record<SecondFactorMethod, SecondFactorCounts>;

const noSecondFactors = (): SecondFactorCounts => ({ succeeded: 0, failed: 0 });
const noSecondFactorMethods = (): SecondFactorMethods => ({
  totp: noSecondFactors(),
  recovery: noSecondFactors(),
  passkey: noSecondFactors(),
});
const noSignIns = (): SignInCounts => ({ succeeded: 0, failed: 0, locked: 0 });
const noEndings = (): EndingCounts => ({ logout: 0, inactivity: 0, absolute: 0, revoked: 0, limit: 0, device: 0 });

/** Where an event counts: a sign-in result, a second step's, a way a session ended, or neither. */
function classify(event: EventCount): {
  signIn?: keyof SignInCounts;
  secondFactor?: keyof SecondFactorCounts;
  ending?: keyof EndingCounts;
} {
  switch (event.type) {
    case 'mfa.succeeded':
      // Re-authentication and enrolment prove factors too; only sign-ins count here.
      return event.reason === 'sign_in' ? { secondFactor: 'succeeded' } : {};
    case 'mfa.failed':
      return event.reason === 'sign_in' ? { secondFactor: 'failed' } : {};
    case 'login.succeeded':
      return { signIn: 'succeeded' };
    case 'login.failed':
      // `locked`: one per refused attempt, written before login.locked existed; refusals are a metric now.
      return event.reason === 'locked' ? {} : { signIn: 'failed' };
    case 'login.locked':
      return { signIn: 'locked' };
    case 'logout':
      return { ending: 'logout' };
    case 'session.expired':
      return { ending: event.reason === 'absolute' ? 'absolute' : 'inactivity' };
    case 'session.revoked':
      return { ending: event.reason === 'limit' ? 'limit' : 'revoked' };
    case 'session.anomaly':
      return { ending: 'device' };
    default:
      return {};
  }
}

/**
 * Session analytics for the admin console: sign-ins and endings per hour (24 h)
 * or day (7 d, 30 d), active sessions over time, session lengths and where
 * failed sign-ins come from. Everything is counted in MongoDB on indexed,
 * range-bounded queries; the app only arranges the counts.
 */
@Injectable()
export class AnalyticsService {
  constructor(
    private readonly events: SessionEventQueries,
    private readonly stats: SessionStats,
    private readonly activeNow: ActiveSessionsNow,
  ) {}

  async report(range: AnalyticsRange, now = new Date()): Promise<AnalyticsReport> {
    const { ms, bucket } = ANALYTICS_RANGES[range];
    const since = new Date(now.getTime() - ms);
    const [counts, active, current, sessionLength, topUserAgents, topIps] = await Promise.all([
      this.events.countsByBucket(since, bucket),
      this.stats.activeSeries(since, bucket),
      this.activeNow.count(),
      this.events.sessionLengths(since),
      this.events.topOfFailedSignIns('userAgent', since, TOP_FAILED),
      this.events.topOfFailedSignIns('ip', since, TOP_FAILED),
    ]);
    const buckets = bucketRange(since, now, bucket);
    const signIns = new Map(buckets.map((at) => [at, noSignIns()]));
    const secondFactor = new Map(buckets.map((at) => [at, noSecondFactors()]));
    const endings = new Map(buckets.map((at) => [at, noEndings()]));
    const totals = {
      signIns: noSignIns(),
      secondFactor: { ...noSecondFactors(), byMethod: noSecondFactorMethods() },
      endings: noEndings(),
      revokedBy: { user: 0, admin: 0, system: 0 },
    };
    for (const event of counts) {
      const at = event.at.getTime();
      const { signIn, secondFactor: step, ending } = classify(event);
      if (step) {
        totals.secondFactor[step] += event.count;
        const method = totals.secondFactor.byMethod[event.method as SecondFactorMethod];
        if (method) method[step] += event.count;
        const row = secondFactor.get(at);
        if (row) row[step] += event.count;
      }
      if (signIn) {
        totals.signIns[signIn] += event.count;
        const row = signIns.get(at);
        if (row) row[signIn] += event.count;
      }
      if (ending) {
        totals.endings[ending] += event.count;
        const row = endings.get(at);
        if (row) row[ending] += event.count;
      }
      if (ending === 'revoked' || ending === 'limit') {
        const by = event.by as keyof typeof totals.revokedBy | undefined;
        if (by && by in totals.revokedBy) totals.revokedBy[by] += event.count;
      }
    }
    const iso = (at: number) => new Date(at).toISOString();
    return {
      range,
      bucket,
      from: since.toISOString(),
      to: now.toISOString(),
      series: {
        signIns: [...signIns].map(([at, row]) => ({ at: iso(at), ...row })),
        secondFactor: [...secondFactor].map(([at, row]) => ({ at: iso(at), ...row })),
        endings: [...endings].map(([at, row]) => ({ at: iso(at), ...row })),
        // The samples are averages per period; the line ends on the count made for this report.
        activeSessions: [
          ...active.map((sample) => ({ at: sample.at.toISOString(), active: sample.active })),
          { at: current.countedAt.toISOString(), active: current.count },
        ],
      },
      totals,
      sessionLength,
      failedSignIns: { topUserAgents, topIps },
    };
  }
}

/** Every hour or day from the one `since` falls in to the one `now` falls in, as epoch ms. */
function bucketRange(since: Date, now: Date, bucket: Bucket): number[] {
  const first = bucketsOf(since)[bucket].getTime();
  const last = bucketsOf(now)[bucket].getTime();
  const all: number[] = [];
  for (let at = first; at <= last; at += BUCKET_MS[bucket]) all.push(at);
  return all;
}
