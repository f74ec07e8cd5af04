import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { MetricsService } from './metrics.service';

/** Request durations by route pattern (never the raw path: ids would explode the label set) and CORS preflights. */
export function httpMetricsMiddleware(metrics: MetricsService, allowedOrigins: string[]): RequestHandler {
  const allowed = new Set(allowedOrigins);
  return (req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    const origin = req.get('origin');
    if (req.method === 'OPTIONS' && origin && req.get('access-control-request-method')) {
      metrics.preflight(allowed.has(origin));
    }
    res.once('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      metrics.httpRequest(req.method, route, res.statusCode, Number(process.hrtime.bigint() - started) / 1e6);
    });
    next();
  };
}
