import type { NextFunction, Request, Response } from 'express';
import { CORRELATION_ID_HEADER, resolveCorrelationId } from './correlation-id';
import { RequestContext } from './request-context';

/**
 * First middleware of the stack: every response, redirects and errors
 * included, carries the correlation id, and everything after runs inside
 * the request's context.
 */
export function requestContextMiddleware(req: Request, res: Response, next: NextFunction): void {
  const correlationId = resolveCorrelationId(req.headers[CORRELATION_ID_HEADER.toLowerCase()]);
  req.correlationId = correlationId;
  res.setHeader(CORRELATION_ID_HEADER, correlationId);
  // Getters: resolving the address through TRUST_PROXY costs more than most requests, which never ask for it.
  const client = {
    correlationId,
    get ip() {
      return req.ip ?? '';
    },
    get userAgent() {
      return req.get('user-agent') ?? '';
    },
  };
  RequestContext.run(client, next);
}
