import type { Response } from 'express';
import { AppException } from './app.exception';
import { ErrorCode } from './error-codes';
import { ExpectedError, formErrorOf, showFormError } from './form-errors';

const SIGN_IN = {
  wrong: { code: ErrorCode.INVALID_CREDENTIALS },
  disabled: { code: ErrorCode.ACCOUNT_DISABLED },
  locked: { code: ErrorCode.TOO_MANY_ATTEMPTS },
  busy: { code: ErrorCode.BUSY },
} satisfies Record<string, ExpectedError>;

const CREATE = {
  invalid: { code: ErrorCode.INVALID_INPUT, error: (fields) => `Could not: ${Object.keys(fields).join(', ')}.` },
  wrong: { code: ErrorCode.INVALID_CREDENTIALS, error: 'Not your password.' },
} satisfies Record<string, ExpectedError>;

/** A response that records what was set on it. */
function recordingResponse() {
  const seen: { status?: number; headers?: Record<string, string> } = {};
  const res = {
    status(code: number) {
      seen.status = code;
      return res;
    },
    set(headers: Record<string, string>) {
      seen.headers = headers;
      return res;
    },
  };
  return { res: res as unknown as Response, seen };
}

function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (thrown) {
    return thrown;
  }
  throw new Error('nothing was thrown');
}

describe('formErrorOf', () => {
  it.each([
    ['wrong', ErrorCode.INVALID_CREDENTIALS, 401, 'Invalid email or password'],
    ['disabled', ErrorCode.ACCOUNT_DISABLED, 403, 'This account is disabled.'],
    ['locked', ErrorCode.TOO_MANY_ATTEMPTS, 429, 'Too many failed sign-ins. Try again later.'],
    ['busy', ErrorCode.BUSY, 503, 'Too many people are signing in right now. Try again in a moment.'],
  ])('names %s (%s) with its registry status and, when the form gives none, its registry message', (name, code, status, message) => {
    expect(formErrorOf(new AppException(code), SIGN_IN)).toEqual({ name, error: message, code, status, headers: {} });
  });

  it('keeps the error’s headers, such as Retry-After', () => {
    const locked = new AppException(ErrorCode.TOO_MANY_ATTEMPTS, { retryAfter: 60 }, { 'Retry-After': '60' });
    expect(formErrorOf(locked, SIGN_IN).headers).toEqual({ 'Retry-After': '60' });
  });

  it('says what the form says for the code, in place of the registry message', () => {
    expect(formErrorOf(new AppException(ErrorCode.INVALID_CREDENTIALS), CREATE)).toMatchObject({
      name: 'wrong',
      error: 'Not your password.',
    });
  });

  it('builds the message from the fields VAL_2001 names, and from none when it names none', () => {
    const invalid = new AppException(ErrorCode.INVALID_INPUT, { fields: { email: 'is already registered', password: 'is too short' } });
    expect(formErrorOf(invalid, CREATE)).toEqual({
      name: 'invalid',
      error: 'Could not: email, password.',
      code: 'VAL_2001',
      status: 400,
      headers: {},
    });
    expect(formErrorOf(new AppException(ErrorCode.INVALID_INPUT), CREATE).error).toBe('Could not: .');
  });

  it.each([
    ['a code the form does not expect', new AppException(ErrorCode.REAUTH_REQUIRED, { reauthUrl: '/reauth' })],
    ['a session error', new AppException(ErrorCode.SESSION_EXPIRED)],
    ['an error that is no AppException', new Error('database down')],
    ['a thrown value that is no Error', 'text'],
  ])('throws %s on, unchanged, for the error page', (_name, error) => {
    expect(thrownBy(() => formErrorOf(error, SIGN_IN))).toBe(error);
  });
});

describe('showFormError', () => {
  it('puts the error’s status and headers on the answer and returns what the notice shows', () => {
    const { res, seen } = recordingResponse();
    const locked = new AppException(ErrorCode.TOO_MANY_ATTEMPTS, undefined, { 'Retry-After': '60' });
    expect(showFormError(res, locked, SIGN_IN)).toEqual({ error: 'Too many failed sign-ins. Try again later.', code: 'AUTH_1006' });
    expect(seen).toEqual({ status: 429, headers: { 'Retry-After': '60' } });
  });

  it('leaves the answer alone for an error it throws on', () => {
    const { res, seen } = recordingResponse();
    expect(() => showFormError(res, new AppException(ErrorCode.LAST_ACTIVE_ADMIN), CREATE)).toThrow(AppException);
    expect(seen).toEqual({});
  });
});
