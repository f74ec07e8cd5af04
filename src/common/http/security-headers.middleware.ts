import cors from 'cors';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet, { HelmetOptions } from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { corsOptions } from './security-headers';

/**
 * Helmet's headers, set in one call. With our options (no per-request nonce)
 * they never depend on the request, yet helmet runs a dozen middlewares and
 * rebuilds the Content-Security-Policy string on every request. So helmet
 * itself is run once at boot against a recorder, and what it set is what is
 * sent: the same headers, one step (test/e2e/http-security compares them).
 */
export function securityHeadersMiddleware(options: HelmetOptions): RequestHandler {
  const headers = new Map<string, string>();
  const recorder = {
    setHeader: (name: string, value: string) => headers.set(name, value),
    removeHeader: (name: string) => headers.delete(name),
  };
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error;
  });
  return (_req: Request, res: Response, next: NextFunction) => {
    res.setHeaders(headers);
    next();
  };
}

/**
 * CORS for the configured origins. Only a request that carries an Origin can be
 * cross-origin (browsers always send it then), so the others skip the CORS
 * middleware and only tell caches that the answer depends on Origin.
 */
export function corsMiddleware(allowedOrigins: string[]): RequestHandler {
  const handle = cors(corsOptions(allowedOrigins));
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.headers.origin !== undefined) return handle(req, res, next);
    res.setHeader('Vary', 'Origin');
    next();
  };
}
