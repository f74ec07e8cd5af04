import type { Request } from 'express';
import type { FinishedRequest, RequestObserver } from '../common/context/request-lifecycle.middleware';
import { MetricsService } from './metrics.service';

/** Request durations by route pattern (never the raw path: ids would explode the label set) and CORS preflights. */
export function httpMetricsObserver(metrics: MetricsService, allowedOrigins: string[]): RequestObserver {
  const allowed = new Set(allowedOrigins);
  return {
    started(req: Request) {
      if (req.method !== 'OPTIONS') return;
      const origin = req.get('origin');
      if (origin && req.get('access-control-request-method')) metrics.preflight(allowed.has(origin));
    },
    ended({ req, res, delivered, durationMs }: FinishedRequest) {
      // A request the client abandoned has no answer to time.
      if (!delivered) return;
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      metrics.httpRequest(req.method, route, res.statusCode, durationMs);
    },
  };
}
