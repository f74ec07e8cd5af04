import { Secret, TOTP } from 'otpauth';
import { timingSafeEqual } from 'node:crypto';
import { TOTP_ALGORITHM, TOTP_DIGITS, TOTP_ISSUER, TOTP_PERIOD_SECONDS, TOTP_SECRET_BYTES, TOTP_WINDOW } from './second-factor.constants';

const PERIOD_MS = TOTP_PERIOD_SECONDS * 1000;
const CODE_PATTERN = new RegExp(`^\\d{${TOTP_DIGITS}}$`);

/** A new random secret, base32 as authenticator apps take it. */
export function newTotpSecret(): string {
  return new Secret({ size: TOTP_SECRET_BYTES }).base32;
}

function totpOf(secret: string, label = ''): TOTP {
  return new TOTP({
    issuer: TOTP_ISSUER,
    label,
    algorithm: TOTP_ALGORITHM,
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
    secret: Secret.fromBase32(secret),
  });
}

/** The `otpauth://` URI an authenticator app scans. */
export function totpUri(secret: string, accountName: string): string {
  return totpOf(secret, accountName).toString();
}

/** The time step `at` falls in. */
export function totpStep(at: number): number {
  return Math.floor(at / PERIOD_MS);
}

/** What people type: digits, maybe with spaces; anything else is no code. */
export function normaliseTotpCode(code: string): string | undefined {
  const digits = code.replace(/\s+/g, '');
  return CODE_PATTERN.test(digits) ? digits : undefined;
}

/**
 * The step whose code `code` is, within TOTP_WINDOW steps of `at`, and only
 * a step after `lastUsedStep`: a code, once accepted, never is again, and
 * neither is an older one. Undefined when it matches none. Every step of the
 * window is compared in constant time.
 */
export function matchTotpStep(secret: string, code: string, at: number, lastUsedStep = -1): number | undefined {
  const typed = normaliseTotpCode(code);
  if (typed === undefined) return undefined;
  const totp = totpOf(secret);
  const now = totpStep(at);
  let matched: number | undefined;
  for (let step = now - TOTP_WINDOW; step <= now + TOTP_WINDOW; step++) {
    const expected = totp.generate({ timestamp: step * PERIOD_MS });
    const equal = timingSafeEqual(Buffer.from(expected), Buffer.from(typed));
    if (equal && step > lastUsedStep && matched === undefined) matched = step;
  }
  return matched;
}
