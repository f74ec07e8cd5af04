import { ANOTHER_DEVICE, BROWSERS, DeviceHeaders, SAME_DEVICE, withoutHints } from '../../test/helpers/devices';
import { DeviceSignals, deviceSignalsOf, sameDevice } from './device-binding';

/** A request's signals as the middleware reads them (header names are case-insensitive). */
const signalsOf = (headers: DeviceHeaders): DeviceSignals => {
  const byName = new Map(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
  return deviceSignalsOf((name) => byName.get(name));
};

describe('sameDevice', () => {
  it.each(SAME_DEVICE)('keeps the session: $name', ({ signedIn, now }) => {
    expect(sameDevice(signalsOf(signedIn), signalsOf(now))).toBe(true);
  });

  it.each(ANOTHER_DEVICE)('ends the session: $name', ({ signedIn, now }) => {
    expect(sameDevice(signalsOf(signedIn), signalsOf(now))).toBe(false);
  });

  it.each([
    ['the desktop-site request without hints', BROWSERS.chromeOnAndroid, withoutHints(BROWSERS.chromeOnAndroidDesktopSite)],
    ['a sign-in without hints', withoutHints(BROWSERS.chromeOnAndroid), BROWSERS.chromeOnAndroidDesktopSite],
    [
      'a desktop-site request without its platform hint',
      BROWSERS.chromeOnAndroid,
      { ...BROWSERS.chromeOnAndroidDesktopSite, 'Sec-CH-UA-Platform': '"Android' },
    ],
  ])(
    'leaves "Desktop site" to the User-Agent, another OS, when the platform hint does not confirm Android on both: %s',
    (_, signedIn, now) => {
      expect(sameDevice(signalsOf(signedIn), signalsOf(now))).toBe(false);
    },
  );

  it('judges malformed or oversized hints as none: the User-Agent decides', () => {
    const forged = { 'Sec-CH-UA': `"${'A'.repeat(10_000)}";v="1"`, 'Sec-CH-UA-Platform': '"Windows', 'Sec-CH-UA-Mobile': '?2' };
    expect(signalsOf({ ...BROWSERS.chromeOnAndroid, ...forged }).hints).toBeUndefined();
    expect(sameDevice(signalsOf(BROWSERS.chromeOnAndroid), signalsOf({ ...BROWSERS.chromeOnAndroid, ...forged }))).toBe(true);
    expect(sameDevice(signalsOf(BROWSERS.chromeOnAndroid), signalsOf({ ...BROWSERS.chromeOnWindows, ...forged }))).toBe(false);
  });

  it('gives hints appearing on a Chromium sign-in that sent none to the User-Agent', () => {
    expect(sameDevice(signalsOf(withoutHints(BROWSERS.chromeOnWindows)), signalsOf(BROWSERS.chromeOnWindows))).toBe(true);
  });

  it('compares sessions signed in before the engine and hints were kept by browser family and OS', () => {
    const stored = { browser: 'Chrome', os: 'Android' };
    expect(sameDevice(stored, signalsOf(BROWSERS.chromeOnAndroid))).toBe(true);
    expect(sameDevice(stored, signalsOf(BROWSERS.chromeOnAndroidDesktopSite))).toBe(false);
    expect(sameDevice({ browser: 'Firefox', os: 'Windows' }, signalsOf(BROWSERS.chromeOnWindows))).toBe(false);
  });
});

describe('deviceSignalsOf', () => {
  it('keeps the User-Agent family and the hints, without versions or the GREASE brand', () => {
    expect(signalsOf(BROWSERS.chromeOnAndroidDesktopSite)).toEqual({
      browser: 'Chrome',
      os: 'Linux',
      engine: 'Blink',
      hints: { brands: ['Chromium', 'Google Chrome'], platform: 'Android', mobile: false },
    });
    expect(signalsOf(BROWSERS.safariOnIphone)).toEqual({ browser: 'Mobile Safari', os: 'iOS', engine: 'WebKit' });
    expect(signalsOf({})).toEqual({ browser: 'Unknown', os: 'Unknown', engine: 'Unknown' });
  });
});
