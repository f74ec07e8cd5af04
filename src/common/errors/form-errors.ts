import type { Response } from 'express';
import { AppException } from './app.exception';
import { ERROR_CATALOGUE, ErrorCode } from './error-codes';

/** The problem with each named field, as VAL_2001 carries them in `details.fields`. */
export type FieldProblems = Record<string, string>;

/** An error a form expects: its code, and what the form says (the registry's message when left out). */
export interface ExpectedError {
  code: ErrorCode;
  error?: string | ((fields: FieldProblems) => string);
}

/** An expected error as the form's page shows it (views/partials/notice.hbs), with the answer's status and headers. */
export interface FormError<Name extends string = string> {
  /** Which of the form's expected errors it is. */
  name: Name;
  error: string;
  code: ErrorCode;
  status: number;
  headers: Record<string, string>;
}

/**
 * The one place an AppException becomes a form's message: what the form says
 * for `error` when its code is one the form expects. Anything else is thrown
 * on, to the exception filter: the error page, or the redirect to sign in or
 * to re-authenticate.
 */
export function formErrorOf<Name extends string>(error: unknown, expected: Record<Name, ExpectedError>): FormError<Name> {
  if (!(error instanceof AppException)) throw error;
  const name = (Object.keys(expected) as Name[]).find((key) => expected[key].code === error.code);
  if (name === undefined) throw error;
  const { status, message } = ERROR_CATALOGUE[error.code];
  const says = expected[name].error ?? message;
  const fields = (error.details?.fields ?? {}) as FieldProblems;
  return { name, error: typeof says === 'function' ? says(fields) : says, code: error.code, status, headers: error.headers };
}

/**
 * For a form shown again with its error: the error's status and headers
 * (e.g. Retry-After) go on the answer, and what the notice shows comes back.
 */
export function showFormError<Name extends string>(
  res: Response,
  error: unknown,
  expected: Record<Name, ExpectedError>,
): { error: string; code: ErrorCode } {
  const shown = formErrorOf(error, expected);
  res.status(shown.status).set(shown.headers);
  return { error: shown.error, code: shown.code };
}
