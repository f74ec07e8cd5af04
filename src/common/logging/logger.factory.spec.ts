import pino from 'pino';
import { isoTimeOncePerMillisecond, wantsPrettyLogs } from './logger.factory';

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

describe('isoTimeOncePerMillisecond', () => {
  afterEach(() => jest.useRealTimers());

  it('writes what pino.stdTimeFunctions.isoTime writes, and formats again when the millisecond changes', () => {
    jest.useFakeTimers({ now: new Date('2026-11-30T07:00:00.123Z') });
    const time = isoTimeOncePerMillisecond();
    expect(time()).toBe(pino.stdTimeFunctions.isoTime());
    expect(time()).toBe(',"time":"2026-11-30T07:00:00.123Z"');
    jest.advanceTimersByTime(1);
    expect(time()).toBe(',"time":"2026-11-30T07:00:00.124Z"');
    expect(time()).toBe(pino.stdTimeFunctions.isoTime());
  });
});
