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
