import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';

const FIRST_SERVER_ERROR = 500;

/**
 * One line per request: method, path (never the query), status, duration,
 * correlation and user ids; a request the client abandoned is logged too. Not pino-http: it builds two child
 * loggers and serializes the whole request for every request, which cost a
 * third of the anonymous pipeline's throughput (measured with wrk).
 */
export function requestLogMiddleware(rootLogger: Logger): RequestHandler {
  // The line is built here from fields that hold no secret, so the redaction pass (a third of its cost) is skipped.
  const logger = rootLogger.child({}, { redact: [] });
  return (req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    // Not `res.writableFinished`: it turns true when an answer is written to a socket the client already closed.
    let delivered = false;
    res.once('finish', () => {
      delivered = true;
    });
    res.once('close', () => {
      const responseTime = Math.round(Number(process.hrtime.bigint() - started) / 1e6);
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
    });
    next();
  };
}
