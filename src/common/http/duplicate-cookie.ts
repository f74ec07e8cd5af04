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
