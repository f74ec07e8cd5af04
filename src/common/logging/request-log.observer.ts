import type { Logger } from 'pino';
import type { FinishedRequest, RequestObserver } from '../context/request-lifecycle.middleware';

const FIRST_SERVER_ERROR = 500;

/**
 * One line per request: method, path (never the query), status, duration,
 * correlation and user ids; a request the client abandoned is logged too. Not pino-http: it builds two child
 * loggers and serializes the whole request for every request, a large share
 * of what an anonymous request costs.
 */
export function requestLogObserver(rootLogger: Logger): RequestObserver {
  // The line is built here from fields that hold no secret, so the redaction pass, a large part of a line's cost, is skipped.
  const logger = rootLogger.child({}, { redact: [] });
  return {
    ended({ req, res, delivered, durationMs }: FinishedRequest) {
      const responseTime = Math.round(durationMs);
      const line = {
        // Named here, not only by the logger's mixin: a client that goes away ends the request outside its context.
        correlationId: req.correlationId,
        userId: req.auth?.state === 'active' ? req.auth.user.id : undefined,
        req: { method: req.method, path: req.originalUrl.split('?')[0] },
        res: { statusCode: res.statusCode },
        responseTime,
      };
      if (!delivered) logger.warn(line, `${req.method} aborted by the client after ${responseTime}ms`);
      else if (res.statusCode >= FIRST_SERVER_ERROR) logger.error(line, `${req.method} ${res.statusCode} failed`);
      else logger.info(line, `${req.method} ${res.statusCode} ${responseTime}ms`);
    },
  };
}
