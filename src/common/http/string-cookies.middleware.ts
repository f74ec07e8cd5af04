import { parse } from 'cookie';
import type { NextFunction, Request, Response } from 'express';

/**
 * `req.cookies` as plain strings. Not cookie-parser: it turns a value starting
 * with `j:` into a JSON object, which express-session and csrf-csrf then call
 * string methods on (a 500 on every route for anyone who can plant a cookie,
 * e.g. from a sibling subdomain). Here every value is text, valid or not.
 */
export function stringCookiesMiddleware(req: Request, _res: Response, next: NextFunction): void {
  const header = req.headers.cookie;
  req.cookies = header ? parse(header) : {};
  next();
}
