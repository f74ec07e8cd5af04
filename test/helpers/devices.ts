/**
 * Browsers as the session service sees them: a User-Agent and the low-entropy
 * Client Hints a Chromium browser sends by default (Safari and Firefox send
 * none). Shared by the unit table of sameDevice and the e2e table, so both
 * name the same toggles and the same changes of device.
 */
export type DeviceHeaders = Record<string, string>;

const CHROME_BRANDS = '"Not/A)Brand";v="8", "Chromium";v="126", "Google Chrome";v="126"';
const SAMSUNG_BRANDS = '"Chromium";v="121", "Not A(Brand";v="99", "Samsung Internet";v="25.0"';
const chromium = (brands: string, platform: string, mobile: boolean) => ({
  'Sec-CH-UA': brands,
  'Sec-CH-UA-Mobile': mobile ? '?1' : '?0',
  'Sec-CH-UA-Platform': `"${platform}"`,
});

export const BROWSERS = {
  chromeOnAndroid: {
    'User-Agent':
      'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.71 Mobile Safari/537.36',
    ...chromium(CHROME_BRANDS, 'Android', true),
  },
  /** Chrome on Android with "Desktop site" on: a desktop Linux User-Agent, the same brands and platform. */
  chromeOnAndroidDesktopSite: {
    'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
    ...chromium(CHROME_BRANDS, 'Android', false),
  },
  /** The same phone after a Chrome update: new versions and a new GREASE brand. */
  chromeOnAndroidUpdated: {
    'User-Agent':
      'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/127.0.6533.64 Mobile Safari/537.36',
    ...chromium('"Chromium";v="127", "Not)A;Brand";v="99", "Google Chrome";v="127"', 'Android', true),
  },
  chromeOnLinux: {
    'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
    ...chromium(CHROME_BRANDS, 'Linux', false),
  },
  chromeOnWindows: {
    'User-Agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
    ...chromium(CHROME_BRANDS, 'Windows', false),
  },
  chromeOnMac: {
    'User-Agent': 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
    ...chromium(CHROME_BRANDS, 'macOS', false),
  },
  samsungInternet: {
    'User-Agent':
      'Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36',
    ...chromium(SAMSUNG_BRANDS, 'Android', true),
  },
  /** Samsung Internet's desktop mode: a desktop Linux User-Agent that keeps its SamsungBrowser token. */
  samsungInternetDesktopMode: {
    'User-Agent':
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Safari/537.36',
    ...chromium(SAMSUNG_BRANDS, 'Android', false),
  },
  safariOnIphone: {
    'User-Agent':
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  },
  safariOnIpad: {
    'User-Agent':
      'Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  },
  /** What Safari on an iPhone or iPad sends for a desktop site, and what Safari on a Mac sends. */
  safariOnMac: {
    'User-Agent': 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  },
  firefoxOnWindows: { 'User-Agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0' },
  firefoxOnMac: { 'User-Agent': 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:128.0) Gecko/20100101 Firefox/128.0' },
  firefoxOnAndroid: { 'User-Agent': 'Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0' },
} satisfies Record<string, DeviceHeaders>;

type Browser = keyof typeof BROWSERS;

/** `headers` with the Client Hints left out, as a plain-HTTP request or a privacy tool sends them. */
export function withoutHints(headers: DeviceHeaders): DeviceHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !name.startsWith('Sec-CH-')));
}

/** `headers` with no User-Agent: only the Client Hints. */
export function withoutUserAgent(headers: DeviceHeaders): DeviceHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => name !== 'User-Agent'));
}

/** A thief's request: the victim's User-Agent, copied, and the hints the thief's own browser sends. */
export function copiedUserAgent(victim: Browser, thief: Browser): DeviceHeaders {
  return { ...BROWSERS[thief], 'User-Agent': BROWSERS[victim]['User-Agent'] };
}

export interface DeviceCase {
  name: string;
  signedIn: DeviceHeaders;
  now: DeviceHeaders;
}

/** One device, another mode: each must keep the session. */
export const SAME_DEVICE: DeviceCase[] = [
  { name: 'Chrome on Android turns "Desktop site" on', signedIn: BROWSERS.chromeOnAndroid, now: BROWSERS.chromeOnAndroidDesktopSite },
  { name: 'Chrome on Android turns "Desktop site" off', signedIn: BROWSERS.chromeOnAndroidDesktopSite, now: BROWSERS.chromeOnAndroid },
  { name: 'iPadOS Safari asks for the desktop site', signedIn: BROWSERS.safariOnIpad, now: BROWSERS.safariOnMac },
  { name: 'iPadOS Safari goes back to the mobile site', signedIn: BROWSERS.safariOnMac, now: BROWSERS.safariOnIpad },
  { name: 'Samsung Internet turns desktop mode on', signedIn: BROWSERS.samsungInternet, now: BROWSERS.samsungInternetDesktopMode },
  { name: 'Samsung Internet turns desktop mode off', signedIn: BROWSERS.samsungInternetDesktopMode, now: BROWSERS.samsungInternet },
  { name: 'iPhone Safari requests the desktop website', signedIn: BROWSERS.safariOnIphone, now: BROWSERS.safariOnMac },
  { name: 'iPhone Safari goes back to the mobile website', signedIn: BROWSERS.safariOnMac, now: BROWSERS.safariOnIphone },
  {
    name: 'Chrome on Android updates (new versions, new GREASE brand)',
    signedIn: BROWSERS.chromeOnAndroid,
    now: BROWSERS.chromeOnAndroidUpdated,
  },
  {
    name: 'Chrome on Android drops its hints (absence alone is no change)',
    signedIn: BROWSERS.chromeOnAndroid,
    now: withoutHints(BROWSERS.chromeOnAndroid),
  },
];

/** Another browser or OS: each must end the session with AUTH_1010. */
export const ANOTHER_DEVICE: DeviceCase[] = [
  { name: 'Firefox, then Chrome (same OS)', signedIn: BROWSERS.firefoxOnWindows, now: BROWSERS.chromeOnWindows },
  { name: 'Firefox on Windows, then Firefox on a Mac', signedIn: BROWSERS.firefoxOnWindows, now: BROWSERS.firefoxOnMac },
  { name: 'Chrome on Windows, then Chrome on a Mac', signedIn: BROWSERS.chromeOnWindows, now: BROWSERS.chromeOnMac },
  { name: 'Chrome on Android, then Firefox on Android', signedIn: BROWSERS.chromeOnAndroid, now: BROWSERS.firefoxOnAndroid },
  { name: 'Samsung Internet, then Chrome on the same phone', signedIn: BROWSERS.samsungInternet, now: BROWSERS.chromeOnAndroid },
  { name: 'Chrome on Android, then Chrome on a Linux desktop', signedIn: BROWSERS.chromeOnAndroid, now: BROWSERS.chromeOnLinux },
  { name: 'Safari on an iPhone, then Chrome on a Mac', signedIn: BROWSERS.safariOnIphone, now: BROWSERS.chromeOnMac },
  {
    name: 'a thief copies the User-Agent of Chrome on Windows from Chrome on Android (platform hint "Windows" → "Android")',
    signedIn: BROWSERS.chromeOnWindows,
    now: copiedUserAgent('chromeOnWindows', 'chromeOnAndroid'),
  },
  {
    name: 'a thief copies the User-Agent of Chrome on Android from Samsung Internet (another brand set)',
    signedIn: BROWSERS.chromeOnAndroid,
    now: copiedUserAgent('chromeOnAndroid', 'samsungInternet'),
  },
  {
    name: 'a thief copies the User-Agent of Firefox from Chrome (hints where Firefox sends none)',
    signedIn: BROWSERS.firefoxOnWindows,
    now: copiedUserAgent('firefoxOnWindows', 'chromeOnWindows'),
  },
  {
    name: 'a thief copies the User-Agent of iPhone Safari from Chrome on Android',
    signedIn: BROWSERS.safariOnIphone,
    now: copiedUserAgent('safariOnIphone', 'chromeOnAndroid'),
  },
  {
    name: 'a thief copies the Desktop-site User-Agent of Chrome on Android from Chrome on Linux (platform hint "Linux")',
    signedIn: BROWSERS.chromeOnAndroid,
    now: copiedUserAgent('chromeOnAndroidDesktopSite', 'chromeOnLinux'),
  },
  {
    name: 'Client Hints without a User-Agent',
    signedIn: BROWSERS.chromeOnAndroid,
    now: withoutUserAgent(BROWSERS.chromeOnAndroid),
  },
];
