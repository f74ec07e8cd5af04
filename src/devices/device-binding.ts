import { ClientHints, clientHintsOf } from './client-hints';
import { deviceFamily } from './user-agent';

/** What a session is bound to: what the User-Agent names, and the Client Hints the browser sent. */
export interface DeviceSignals {
  /** Browser family and OS without versions ("Chrome", "Android"), from the User-Agent. */
  browser: string;
  os: string;
  /** Rendering engine ("Blink", "WebKit", "Gecko"); absent in sessions signed in before it was kept. */
  engine?: string;
  hints?: ClientHints;
}

/** Only Chromium browsers (the Blink engine) send Client Hints. */
const HINTS_ENGINE = 'Blink';
/** Safari on an iPhone or iPad asks for desktop sites as Safari on a Mac: one WebKit browser of the Apple family. */
const APPLE_SAFARI_BROWSERS = new Set(['Safari', 'Mobile Safari']);
const APPLE_SYSTEMS = new Set(['iOS', 'Mac OS']);
/** "Desktop site" on Android sends a desktop Linux User-Agent, while the platform hint stays Android. */
const ANDROID = 'Android';
const ANDROID_DESKTOP_MODE_OS = 'Linux';

/** A request's signals, from its headers (`header` reads one by lower-case name). */
export function deviceSignalsOf(header: (name: string) => string | undefined): DeviceSignals {
  const family = deviceFamily(header('user-agent'));
  const hints = clientHintsOf(header);
  // A copy: the family is shared by the parse cache.
  return hints ? { ...family, hints } : { ...family };
}

/**
 * Whether a request (`now`) comes from the device a session signed in with.
 * A version update is the same device, and so is a phone or tablet asking for
 * the desktop site. Client Hints decide where both requests carry them: the
 * brands and the platform stay put in desktop mode, so a different brand set
 * or platform is another browser. Hints can be missing legitimately (plain
 * HTTP, privacy tools): then the User-Agent alone decides, as before hints.
 */
export function sameDevice(signedIn: DeviceSignals, now: DeviceSignals): boolean {
  const before = signedIn.hints;
  const after = now.hints;
  if (before?.brands && after?.brands && before.brands.join('\n') !== after.brands.join('\n')) return false;
  if (before?.platform !== undefined && after?.platform !== undefined && before.platform !== after.platform) return false;
  // Hints where the browser signed in without them, and was not one that can send them: another browser.
  if (!before?.brands && after?.brands && signedIn.engine !== undefined && signedIn.engine !== HINTS_ENGINE) return false;
  const androidOnBoth = before?.platform === ANDROID && after?.platform === ANDROID;
  return userAgentClass(signedIn, androidOnBoth) === userAgentClass(now, androidOnBoth);
}

/** The browser and OS a User-Agent names, with the desktop-mode variants of one device made the same. */
function userAgentClass({ browser, os }: DeviceSignals, androidOnBoth: boolean): string {
  if (APPLE_SAFARI_BROWSERS.has(browser) && APPLE_SYSTEMS.has(os)) return 'Safari on Apple';
  if (androidOnBoth && os === ANDROID_DESKTOP_MODE_OS) return `${browser} on ${ANDROID}`;
  return `${browser} on ${os}`;
}
