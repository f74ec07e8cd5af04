import { ErrorCode } from '../common/errors/error-codes';
import type { ExpectedError } from '../common/errors/form-errors';
import { MIN_PASSWORD_LENGTH } from '../config/credential-limits';

/** The password form's errors, by the name `?password=` carries back to the account page. */
export const PASSWORD_ERRORS = {
  wrong: { code: ErrorCode.INVALID_CREDENTIALS, error: 'That is not your current password.' },
  weak: {
    code: ErrorCode.INVALID_INPUT,
    error: `Choose a new password of at least ${MIN_PASSWORD_LENGTH} characters that does not contain your email.`,
  },
  locked: { code: ErrorCode.TOO_MANY_ATTEMPTS, error: 'Too many failed attempts. Try again later.' },
} satisfies Record<string, ExpectedError>;

/** Every way the password form can come back to the account page (`?password=`), with what it shows. */
export const PASSWORD_OUTCOMES = {
  changed: { notice: 'Your password has been changed. Your other sessions have been signed out.' },
  ...PASSWORD_ERRORS,
};

export type PasswordOutcome = keyof typeof PASSWORD_OUTCOMES;

/** The code forms' errors on the security page. */
export const CODE_ERRORS = {
  wrong: { code: ErrorCode.INVALID_CODE, error: 'That code is not right. Enter the code the app shows now.' },
  locked: { code: ErrorCode.TOO_MANY_ATTEMPTS, error: 'Too many failed attempts. Try again later.' },
  gone: { code: ErrorCode.NOT_FOUND, error: 'That setup is no longer waiting: start again.' },
} satisfies Record<string, ExpectedError>;

/** What the security page says when a factor cannot be removed. */
export const REMOVE_FACTOR_ERRORS = {
  lastRequired: { code: ErrorCode.INVALID_INPUT, error: 'Your role requires a second factor: add another one before you remove this one.' },
} satisfies Record<string, ExpectedError>;

/** What the security page says after a change (`?done=` on the redirect, or rendered at once). */
export const SECURITY_NOTICES = {
  enrolled: 'Your authenticator app is set up. Your other sessions have been signed out.',
  removed: 'The factor has been removed. Your other sessions have been signed out.',
  regenerated: 'New recovery codes replace the old ones. Your other sessions have been signed out.',
  passkey: 'Your passkey is added. Your other sessions have been signed out.',
} as const;

export type SecurityNotice = keyof typeof SECURITY_NOTICES;
