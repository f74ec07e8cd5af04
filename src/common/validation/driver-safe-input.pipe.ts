import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import { AppException } from '../errors/app.exception';
import { ErrorCode } from '../errors/error-codes';

/**
 * A NUL, or a UTF-16 surrogate without its other half. The driver refuses a
 * NUL in a regular expression or a field name (a BSON error, which was a 500),
 * and writes a lone surrogate as U+FFFD, so neither is ever stored as sent.
 */
const DRIVER_UNSAFE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const DRIVER_UNSAFE_ALL = new RegExp(DRIVER_UNSAFE.source, 'g');

const PROBLEM = 'must not contain NUL characters or unpaired UTF-16 surrogates';

/** A value met on the walk, with the way to it (built only when it is named: copying paths would cost depth²). */
interface Visit {
  value: unknown;
  key?: string;
  parent?: Visit;
}

function pathOf(visit: Visit | undefined, root: string[]): string {
  const keys: string[] = [];
  for (let at = visit; at?.key !== undefined; at = at.parent) keys.push(at.key.replace(DRIVER_UNSAFE_ALL, '\uFFFD'));
  return [...root, ...keys.reverse()].join('.');
}

/** Where the first unsafe string (or field name) in `value` is, `root` being the parameter's name if it has one; undefined when none. */
export function firstUnsafeField(value: unknown, root: string[] = []): string | undefined {
  // A work list, not recursion: nesting depth is the client's choice.
  const pending: Visit[] = [{ value }];
  for (let visit = pending.pop(); visit; visit = pending.pop()) {
    if (typeof visit.value === 'string') {
      if (DRIVER_UNSAFE.test(visit.value)) return pathOf(visit, root);
    } else if (visit.value !== null && typeof visit.value === 'object') {
      for (const [key, child] of Object.entries(visit.value)) {
        const next = { value: child, key, parent: visit };
        if (DRIVER_UNSAFE.test(key)) return pathOf(next, root);
        pending.push(next);
      }
    }
  }
  return undefined;
}

/**
 * Every body, query and route parameter, before validation: a string the
 * database would refuse or alter is VAL_2001 naming the field (pages render
 * it as their 400 page, as any other invalid input).
 */
@Injectable()
export class DriverSafeInputPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'custom') return value;
    const field = firstUnsafeField(value, metadata.data ? [metadata.data] : []);
    if (field !== undefined) throw new AppException(ErrorCode.INVALID_INPUT, { fields: { [field || metadata.type]: PROBLEM } });
    return value;
  }
}
