import { ValidateIf } from 'class-validator';

/**
 * An optional field of request input: absent, or else validated by the
 * property's other decorators. Unlike class-validator's `@IsOptional()`,
 * which skips validation for `null` too, a `null` here must pass them (so
 * `{ "role": null }` is VAL_2001, not a value stored as given).
 */
export function MayBeAbsent(): PropertyDecorator {
  return ValidateIf((_object: object, value: unknown) => value !== undefined);
}
