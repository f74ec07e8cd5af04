import { RECOVERY_CODE_COUNT } from './second-factor.constants';
import { newRecoveryCodes, normaliseRecoveryCode, recoveryCodeId } from './recovery-codes';

describe('recovery codes', () => {
  it('makes ten distinct codes of two groups of five', () => {
    const codes = newRecoveryCodes();
    expect(codes).toHaveLength(RECOVERY_CODE_COUNT);
    expect(new Set(codes).size).toBe(RECOVERY_CODE_COUNT);
    for (const code of codes) expect(code).toMatch(/^[a-z2-9]{5}-[a-z2-9]{5}$/);
  });

  it('reads a code typed without the dash, in capitals or with spaces', () => {
    const [code] = newRecoveryCodes();
    const compact = code.replace('-', '');
    expect(normaliseRecoveryCode(code.toUpperCase())).toBe(compact);
    expect(normaliseRecoveryCode(` ${compact.slice(0, 5)} ${compact.slice(5)} `)).toBe(compact);
  });

  it('refuses what cannot be a code: look-alike characters, the wrong length', () => {
    expect(normaliseRecoveryCode('abcde-fghj1')).toBeUndefined();
    expect(normaliseRecoveryCode('abcde-fghjkm')).toBeUndefined();
    expect(normaliseRecoveryCode('')).toBeUndefined();
  });

  it('stores one user’s code under an id no other user’s same code has', () => {
    expect(recoveryCodeId('user-a', 'abcdefghjk')).not.toBe(recoveryCodeId('user-b', 'abcdefghjk'));
    expect(recoveryCodeId('user-a', 'abcdefghjk')).toMatch(/^[0-9a-f]{64}$/);
  });
});
