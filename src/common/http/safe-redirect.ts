/** Longer `next` values are refused as input before they are resolved. */
export const MAX_NEXT_LENGTH = 2048;
const PLACEHOLDER_ORIGIN = 'http://same-site.invalid';
// Control characters and backslashes make browsers and servers disagree about a URL.
const SUSPICIOUS = /[\u0000-\u001f\u007f\\]/;
/** Pages that must not be a post-sign-in destination: they would bounce straight back. */
const NOT_A_DESTINATION = /^\/(login|logout)(\/|\?|$)/;

/**
 * A same-site path to go to after sign-in, or the fallback. `next` is resolved
 * with the WHATWG URL parser, as a browser would, and what we send back is the
 * normalised path: it must stay on this origin, resolve to the same URL again,
 * and never read as `//host` (`/.//evil`, `/%2e//evil` and `/a/..//evil` all
 * normalise to `//evil`). No backslashes, no control characters.
 */
export function safeNextPath(next: unknown, fallback = '/dashboard'): string {
  if (typeof next !== 'string' || !next.startsWith('/') || SUSPICIOUS.test(next)) return fallback;
  let url: URL;
  try {
    url = new URL(next, PLACEHOLDER_ORIGIN);
  } catch {
    return fallback;
  }
  const path = `${url.pathname}${url.search}${url.hash}`;
  if (url.origin !== PLACEHOLDER_ORIGIN || path.startsWith('//')) return fallback;
  if (new URL(path, PLACEHOLDER_ORIGIN).href !== url.href) return fallback;
  return NOT_A_DESTINATION.test(path) ? fallback : path;
}
