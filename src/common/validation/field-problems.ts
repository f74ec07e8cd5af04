import type { ValidationError } from 'class-validator';

/**
 * The message of a property's first failing check in the order its class
 * lists them (type or presence first). class-validator keeps the checks in
 * the reverse of their order in the source: taking its first, a password
 * left out read "must be shorter than or equal to 256 characters".
 */
export function firstFailedCheck({ constraints = {} }: ValidationError): string | undefined {
  return Object.values(constraints).at(-1);
}

/**
 * One line per bad field, for VAL_2001's `details.fields`, never echoing its
 * value: a field left out is "required", else its first failed check.
 */
export function fieldProblems(errors: ValidationError[]): Record<string, string> {
  return Object.fromEntries(errors.map((error) => [error.property, fieldProblem(error)]));
}

function fieldProblem(error: ValidationError): string {
  const failed = firstFailedCheck(error);
  if (failed === undefined) return `${error.property} is invalid`;
  return error.value === undefined ? `${error.property} is required` : failed;
}
