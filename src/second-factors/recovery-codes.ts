import { createHash, randomInt } from 'node:crypto';
import { RECOVERY_CODE_ALPHABET, RECOVERY_CODE_COUNT, RECOVERY_CODE_LENGTH } from './second-factor.constants';

const GROUP = RECOVERY_CODE_LENGTH / 2;

/** A fresh set of recovery codes, as shown once: `abcde-fghjk`. */
export function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const characters = Array.from({ length: RECOVERY_CODE_LENGTH }, () => RECOVERY_CODE_ALPHABET[randomInt(RECOVERY_CODE_ALPHABET.length)]);
    return `${characters.slice(0, GROUP).join('')}-${characters.slice(GROUP).join('')}`;
  });
}

/** What people type, without case, spaces or dashes; undefined when it cannot be a code. */
export function normaliseRecoveryCode(code: string): string | undefined {
  const compact = code.toLowerCase().replace(/[\s-]+/g, '');
  const allowed = compact.length === RECOVERY_CODE_LENGTH && [...compact].every((character) => RECOVERY_CODE_ALPHABET.includes(character));
  return allowed ? compact : undefined;
}

/**
 * How a code is stored: a SHA-256 of the account and the code, as the
 * document's `_id`. Random codes (not chosen by people) need no slow hash, and
 * with the account in it one user's code is no other's; using one is a delete
 * by `_id` alone.
 */
export function recoveryCodeId(userId: string, code: string): string {
  return createHash('sha256').update(`${userId}:${code}`).digest('hex');
}
