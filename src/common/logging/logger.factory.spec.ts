import { wantsPrettyLogs } from './logger.factory';

describe('wantsPrettyLogs', () => {
  it('pretty-prints only for a terminal outside production', () => {
    expect(wantsPrettyLogs({ production: false, isTTY: true })).toBe(true);
  });

  it.each([
    ['production', { production: true, isTTY: true }],
    ['a pipe or a file', { production: false, isTTY: false }],
    ['a destination of the caller (tests)', { production: false, isTTY: true, destination: {} }],
  ])('writes JSON for %s', (_where, where) => {
    expect(wantsPrettyLogs(where)).toBe(false);
  });
});
