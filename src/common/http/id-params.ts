import { Injectable, PipeTransform } from '@nestjs/common';
import { isValidObjectId } from 'mongoose';
import { AppException } from '../errors/app.exception';
import { ErrorCode } from '../errors/error-codes';

const SESSION_ID = /^[0-9a-f]{64}$/;

/** A session's public id: 64 hex characters (a SHA-256), else VAL_2001. */
@Injectable()
export class ParseSessionIdPipe implements PipeTransform<unknown, string> {
  transform(value: unknown): string {
    if (typeof value === 'string' && SESSION_ID.test(value)) return value;
    throw new AppException(ErrorCode.INVALID_INPUT, { fields: { id: 'must be a session id' } });
  }
}

function isObjectId(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{24}$/i.test(value) && isValidObjectId(value);
}

/** A user id (a MongoDB ObjectId), else VAL_2001. */
@Injectable()
export class ParseUserIdPipe implements PipeTransform<unknown, string> {
  transform(value: unknown): string {
    if (isObjectId(value)) return value;
    throw new AppException(ErrorCode.INVALID_INPUT, { fields: { id: 'must be a user id' } });
  }
}

/** A second factor's id (a MongoDB ObjectId), else VAL_2001. */
@Injectable()
export class ParseFactorIdPipe implements PipeTransform<unknown, string> {
  transform(value: unknown): string {
    if (isObjectId(value)) return value;
    throw new AppException(ErrorCode.INVALID_INPUT, { fields: { id: 'must be a factor id' } });
  }
}
