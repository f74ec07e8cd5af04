import type { NextFunction, Request, Response } from 'express';

/**
 * Dynamic responses are never cached, so after sign-out the back button
 * cannot show a signed-in page. Static files are served before this runs.
 */
export function noStoreMiddleware(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Cache-Control', 'no-store, no-cache, must-revalidate, max-age=0');
  res.setHeader('Pragma', 'no-cache');
  res.setHeader('Expires', '0');
  next();
}
