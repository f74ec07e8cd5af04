import type { RequestHandler } from 'express';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import serveStatic from 'serve-static';

const STATIC_MAX_AGE = '1h';

/**
 * Browser scripts served straight from their installed package, so the
 * version a page loads is the one package-lock pins and no built copy lives
 * in the repository: URL → package and file inside it.
 */
export const PACKAGE_SCRIPTS: Record<string, { packageName: string; file: string }> = {
  '/js/vendor/simplewebauthn-browser.js': { packageName: '@simplewebauthn/browser', file: 'dist/bundle/index.umd.min.js' },
};

/** The folder of an installed package: its entry point's nearest package.json of that name (some packages export no package.json). */
function packageRoot(packageName: string): string {
  for (let dir = dirname(require.resolve(packageName)); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === packageName) return dir;
  }
  throw new Error(`Cannot find the installed package ${packageName}`);
}

/** Each package script's path on disk; a missing one stops boot rather than break pages. */
function packageScriptPaths(): Map<string, string> {
  return new Map(
    Object.entries(PACKAGE_SCRIPTS).map(([url, { packageName, file }]) => {
      const path = join(packageRoot(packageName), file);
      if (!existsSync(path)) throw new Error(`${packageName} has no ${file}`);
      return [url, path];
    }),
  );
}

/**
 * Files in `public/` and PACKAGE_SCRIPTS, served before sessions (they never load or extend one).
 * Only paths that can be a public file reach the disk: the folders and files
 * at the top of `public/` are listed once at boot, so an API call or a page
 * costs no file-system lookup for a file that cannot exist.
 */
export function staticFilesMiddleware(publicDir: string): RequestHandler {
  const serve = serveStatic(publicDir, { index: false, maxAge: STATIC_MAX_AGE });
  const packageScripts = packageScriptPaths();
  const entries = readdirSync(publicDir, { withFileTypes: true });
  const files = new Set(entries.filter((entry) => entry.isFile()).map((entry) => `/${entry.name}`));
  const folders = entries.filter((entry) => entry.isDirectory()).map((entry) => `/${entry.name}/`);
  return (req, res, next) => {
    const packageScript = packageScripts.get(req.path);
    if (packageScript && (req.method === 'GET' || req.method === 'HEAD'))
      return res.sendFile(packageScript, { maxAge: STATIC_MAX_AGE }, next);
    if (files.has(req.path) || folders.some((folder) => req.path.startsWith(folder))) return serve(req, res, next);
    next();
  };
}
