import { UAParser } from 'ua-parser-js';

export interface DeviceDescription {
  browser: string;
  os: string;
}

const UNKNOWN = 'Unknown';

/** "Firefox 128" on "Windows 10", from a User-Agent header (ua-parser-js). */
export function describeUserAgent(userAgent: string | undefined): DeviceDescription {
  const { browser, os } = new UAParser(userAgent ?? '').getResult();
  const join = (name?: string, version?: string) => (name ? [name, version].filter(Boolean).join(' ') : UNKNOWN);
  return { browser: join(browser.name, browser.major), os: join(os.name, os.version) };
}

/** A browser family and OS without versions, and the rendering engine ("Blink", "WebKit", "Gecko"). */
export interface DeviceFamily extends DeviceDescription {
  engine: string;
}

/** Parsed user agents kept to answer the per-request device check without parsing each time. */
const FAMILY_CACHE_ENTRIES = 1_000;
const families = new Map<string, DeviceFamily>();

/**
 * Browser family, OS and engine without versions ("Firefox" on "Windows",
 * Gecko): what a session is bound to, so an update does not count as another device.
 */
export function deviceFamily(userAgent: string | undefined): DeviceFamily {
  const key = userAgent ?? '';
  const known = families.get(key);
  if (known) return known;
  const { browser, os, engine } = new UAParser(key).getResult();
  const family = { browser: browser.name ?? UNKNOWN, os: os.name ?? UNKNOWN, engine: engine.name ?? UNKNOWN };
  if (families.size >= FAMILY_CACHE_ENTRIES) families.delete(families.keys().next().value as string);
  families.set(key, family);
  return family;
}
