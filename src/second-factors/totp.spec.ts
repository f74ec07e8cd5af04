import { Secret, TOTP } from 'otpauth';
import { matchTotpStep, newTotpSecret, normaliseTotpCode, totpStep, totpUri } from './totp';

const STEP_MS = 30_000;
/** Inside a step, well clear of both of its edges. */
const T = 1_800_000_000_000 + 10_000;

/** A code as an authenticator app computes it, with the library, for time `at`. */
function appCode(secret: string, at: number): string {
  return new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: at });
}

describe('TOTP codes', () => {
  const secret = newTotpSecret();

  it('makes a 160-bit base32 secret and an otpauth URI naming the account', () => {
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(totpUri(secret, 'ada@example.test'));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.searchParams.get('secret')).toBe(secret);
    expect(decodeURIComponent(uri.pathname)).toContain('ada@example.test');
  });

  it('accepts the code of the current step, the one before and the one after', () => {
    expect(matchTotpStep(secret, appCode(secret, T), T)).toBe(totpStep(T));
    expect(matchTotpStep(secret, appCode(secret, T - STEP_MS), T)).toBe(totpStep(T) - 1);
    expect(matchTotpStep(secret, appCode(secret, T + STEP_MS), T)).toBe(totpStep(T) + 1);
  });

  it('refuses codes two steps away on either side', () => {
    expect(matchTotpStep(secret, appCode(secret, T - 2 * STEP_MS), T)).toBeUndefined();
    expect(matchTotpStep(secret, appCode(secret, T + 2 * STEP_MS), T)).toBeUndefined();
  });

  it('moves the window at the exact step boundary', () => {
    const boundary = (totpStep(T) + 1) * STEP_MS;
    const oldest = appCode(secret, boundary - 2 * STEP_MS);
    expect(matchTotpStep(secret, oldest, boundary - 1)).toBe(totpStep(boundary) - 2);
    expect(matchTotpStep(secret, oldest, boundary)).toBeUndefined();
  });

  it('never accepts a step at or before the last one used', () => {
    const code = appCode(secret, T);
    expect(matchTotpStep(secret, code, T, totpStep(T))).toBeUndefined();
    expect(matchTotpStep(secret, appCode(secret, T - STEP_MS), T, totpStep(T))).toBeUndefined();
    expect(matchTotpStep(secret, appCode(secret, T + STEP_MS), T, totpStep(T))).toBe(totpStep(T) + 1);
  });

  it('refuses another secret’s code and anything that is not six digits', () => {
    const other = newTotpSecret();
    expect(matchTotpStep(secret, appCode(other, T), T)).toBeUndefined();
    expect(matchTotpStep(secret, appCode(secret, T).slice(1), T)).toBeUndefined();
    expect(matchTotpStep(secret, `${appCode(secret, T)}0`, T)).toBeUndefined();
    expect(normaliseTotpCode('123 456')).toBe('123456');
    expect(normaliseTotpCode('12a456')).toBeUndefined();
  });
});
