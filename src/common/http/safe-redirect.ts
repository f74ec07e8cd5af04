const PLACEHOLDER_ORIGIN = 'http://same-site.invalid';
// Control characters and backslashes make browsers and servers disagree about a URL.
const SUSPICIOUS = /[\u0000-\u001f\u007f\\]/;
/** Pages that must not be a post-sign-in destination: they would bounce straight back. */
const NOT_A_DESTINATION = /^\/(login|logout)(\/|\?|$)/;

/**
 * A same-site path to go to after sign-in, or the fallback. Only a path that
 * stays on this origin once a browser resolves it is accepted: no scheme, no
 * `//host`, no backslash tricks, no control characters.
 */
export function safeNextPath(next: unknown, fallback = '/dashboard'): string {
  if (typeof next !== 'string' || !next.startsWith('/') || next.startsWith('//') || SUSPICIOUS.test(next)) {
    return fallback;
  }
  let url: URL;
  try {
    url = new URL(next, PLACEHOLDER_ORIGIN);
  } catch {
    return fallback;
  }
  if (url.origin !== PLACEHOLDER_ORIGIN) return fallback;
  const path = `${url.pathname}${url.search}${url.hash}`;
  return NOT_A_DESTINATION.test(path) ? fallback : path;
}
