import type { ValidationError } from 'class-validator';

/**
 * One line per bad field, for VAL_2001's `details.fields`, never echoing its
 * value. A field left out is "required"; otherwise the line is its first
 * failing check as the DTO lists them, type first. class-validator keeps a
 * property's checks in the reverse of their order in the source, so a field
 * left out used to read "must be shorter than 256 characters".
 */
export function fieldProblems(errors: ValidationError[]): Record<string, string> {
  return Object.fromEntries(errors.map((error) => [error.property, fieldProblem(error)]));
}

function fieldProblem({ property, value, constraints = {} }: ValidationError): string {
  if (value === undefined && Object.keys(constraints).length > 0) return `${property} is required`;
  return Object.values(constraints).at(-1) ?? `${property} is invalid`;
}
