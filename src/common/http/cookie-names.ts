/**
 * A browser keeps a `__Host-` cookie only when it is Secure, has Path=/ and no
 * Domain, and was set by this very host: no sibling subdomain can plant one,
 * nor shadow it with a cookie of the same name (ASVS V3.4.4).
 */
export const HOST_ONLY_PREFIX = '__Host-';

/** `__Host-<name>` for Secure cookies; the plain name otherwise (browsers drop a `__Host-` cookie that is not Secure). */
export function hostOnlyCookieName(name: string, secure: boolean): string {
  return secure ? `${HOST_ONLY_PREFIX}${name}` : name;
}

/** Spaces and tabs around a cookie name, which the `cookie` package trims too. */
const PADDING = /^[ \t]+|[ \t]+$/g;

/**
 * True when a Cookie header holds more than one `name=` pair. The pairs are
 * split as the `cookie` package splits them (at `;`, the name before the first
 * `=`, spaces and tabs trimmed), which express-session and req.cookies use and
 * which keeps only the first: whoever sets the first pair would choose the
 * session. Node joins repeated Cookie headers into one, so this covers them too.
 */
export function hasDuplicateCookie(header: string | undefined, name: string): boolean {
  // Text that holds the name once cannot hold two pairs of it: most requests stop here.
  if (!header || header.indexOf(name) === header.lastIndexOf(name)) return false;
  let pairs = 0;
  for (const pair of header.split(';')) {
    const equals = pair.indexOf('=');
    if (equals !== -1 && pair.slice(0, equals).replace(PADDING, '') === name && ++pairs > 1) return true;
  }
  return false;
}
