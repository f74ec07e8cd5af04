import type { Request } from 'express';

const API_PREFIXES = ['/api/', '/health/', '/metrics'];

/** API and probe routes answer JSON; everything else is a page and answers HTML. */
export function isApiRequest(req: Pick<Request, 'path'>): boolean {
  return req.path === '/api' || API_PREFIXES.some((prefix) => req.path.startsWith(prefix));
}
