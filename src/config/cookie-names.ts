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
