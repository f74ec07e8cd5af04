import { amrOrPassword, lastProof, withProof } from './amr';

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute));

describe('amr', () => {
  it('keeps one entry per method with its latest proof, in the order first proven', () => {
    let amr = withProof([], 'pwd', at(0));
    amr = withProof(amr, 'otp', at(1));
    amr = withProof(amr, 'pwd', at(5));
    amr = withProof(amr, 'pwd', at(3));
    expect(amr).toEqual([
      { method: 'pwd', at: at(5) },
      { method: 'otp', at: at(1) },
    ]);
  });

  it('finds the latest proof among the methods asked for', () => {
    const amr = [
      { method: 'pwd' as const, at: at(9) },
      { method: 'otp' as const, at: at(2) },
      { method: 'recovery' as const, at: at(4) },
    ];
    expect(lastProof(amr, ['otp', 'passkey', 'recovery'])).toEqual(at(4));
    expect(lastProof(amr, ['passkey'])).toBeUndefined();
  });

  it('takes a session stored without amr for one proven by the password at sign-in', () => {
    expect(amrOrPassword(undefined, at(7))).toEqual([{ method: 'pwd', at: at(7) }]);
  });
});
