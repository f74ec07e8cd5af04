import type { RequestHandler } from 'express';
import { readdirSync } from 'node:fs';
import serveStatic from 'serve-static';

const STATIC_MAX_AGE = '1h';

/**
 * Files in `public/`, served before sessions (they never load or extend one).
 * Only paths that can be a public file reach the disk: the folders and files
 * at the top of `public/` are listed once at boot, so an API call or a page
 * costs no file-system lookup for a file that cannot exist.
 */
export function staticFilesMiddleware(publicDir: string): RequestHandler {
  const serve = serveStatic(publicDir, { index: false, maxAge: STATIC_MAX_AGE });
  const entries = readdirSync(publicDir, { withFileTypes: true });
  const files = new Set(entries.filter((entry) => entry.isFile()).map((entry) => `/${entry.name}`));
  const folders = entries.filter((entry) => entry.isDirectory()).map((entry) => `/${entry.name}/`);
  return (req, res, next) => {
    if (files.has(req.path) || folders.some((folder) => req.path.startsWith(folder))) return serve(req, res, next);
    next();
  };
}
