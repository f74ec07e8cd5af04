import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-codes';
import { MIN_PASSWORD_LENGTH } from '../common/validation/credential-limits';

interface Outcome {
  notice?: string;
  error?: string;
  code?: ErrorCode;
}

/** Every way the password form can come back to the account page (`?password=`), with what it shows. */
export const PASSWORD_OUTCOMES = {
  changed: { notice: 'Your password has been changed. Your other sessions have been signed out.' },
  wrong: { error: 'That is not your current password.', code: ErrorCode.INVALID_CREDENTIALS },
  weak: {
    error: `Choose a new password of at least ${MIN_PASSWORD_LENGTH} characters that does not contain your email.`,
    code: ErrorCode.INVALID_INPUT,
  },
  locked: { error: 'Too many failed attempts. Try again later.', code: ErrorCode.TOO_MANY_ATTEMPTS },
} satisfies Record<string, Outcome>;

export type PasswordOutcome = keyof typeof PASSWORD_OUTCOMES;

/** The outcome a failed password change is reported as, or undefined for errors the error page shows. */
export function passwordOutcomeOf(error: unknown): PasswordOutcome | undefined {
  if (!(error instanceof AppException)) return undefined;
  const entry = Object.entries(PASSWORD_OUTCOMES).find(([, outcome]) => 'code' in outcome && outcome.code === error.code);
  return entry?.[0] as PasswordOutcome | undefined;
}
