import express, { NextFunction, Request, RequestHandler, Response } from 'express';
import type { IncomingMessage } from 'node:http';
import { hasBody } from 'type-is';
import { AppException } from '../errors/app.exception';
import { ErrorCode } from '../errors/error-codes';
import { jsonTextNestsDeeperThan, nestsDeeperThan } from './json-depth';

/** The charset name body-parser hands `verify` for UTF-8 (its default, and what clients send). */
const UTF8 = 'utf-8';

export interface BodyLimits {
  /** Bodies above this are refused with VAL_2002. */
  limit: string;
  /** JSON nested deeper than this is refused with VAL_2001 before anything walks it. */
  maxDepth: number;
}

/**
 * JSON and form bodies up to `limit`, in one layer. Most requests have no
 * body; they pass without entering the parsers, whose checks showed in a
 * CPU profile (--cpu-prof) of the anonymous pipeline's GETs.
 *
 * Nesting: the validation pipe (class-transformer) recurses once per level and
 * overflows the stack, and JSON.parse of a body that is all brackets takes
 * long enough that a flood of them stalls every other request.
 * So UTF-8 JSON is measured from its bytes before parsing; other charsets
 * (UTF-16, UTF-32), whose bytes are not ASCII's, once parsed, by a walk.
 * Forms are parsed without `extended`: `a[b][c]=1` stays the flat key
 * `a[b][c]`, so a form nests nothing.
 */
export function bodyParsersMiddleware({ limit, maxDepth }: BodyLimits): RequestHandler {
  const tooDeep = () => new AppException(ErrorCode.INVALID_INPUT, { fields: { body: `must not nest deeper than ${maxDepth} levels` } });
  const scanned = new WeakSet<IncomingMessage>();
  const json = express.json({
    limit,
    verify: (req, _res, raw, encoding) => {
      if (encoding !== UTF8) return;
      if (jsonTextNestsDeeperThan(raw, maxDepth)) throw tooDeep();
      scanned.add(req);
    },
  });
  const form = express.urlencoded({ extended: false, limit });
  return (req: Request, res: Response, next: NextFunction) => {
    if (!hasBody(req)) return next();
    json(req, res, (error?: unknown) => {
      if (error) return next(error);
      if (!scanned.has(req) && nestsDeeperThan(req.body, maxDepth)) return next(tooDeep());
      form(req, res, next);
    });
  };
}
