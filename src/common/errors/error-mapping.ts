import { HttpException, HttpStatus } from '@nestjs/common';
import { AppException } from './app.exception';
import { ERROR_CATALOGUE, ErrorCode } from './error-codes';

export interface MappedError {
  code: ErrorCode;
  status: number;
  message: string;
  details?: Record<string, unknown>;
  headers: Record<string, string>;
  /** True when this is a bug or outage to log in full, not a client mistake. */
  unexpected: boolean;
}

/** Driver and mongoose errors that mean "MongoDB cannot be reached", whatever the operation. */
const UNAVAILABLE_ERROR_NAMES = new Set([
  'MongoServerSelectionError',
  'MongooseServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoPoolClearedError',
  'DatabaseUnavailableError',
]);

/** body-parser / http-errors types that mean the client sent something unusable. */
const TOO_LARGE_TYPES = new Set(['entity.too.large']);

/**
 * Socket errors the driver lets through as they are when the server goes away
 * mid-command (e.g. "This socket has been ended by the other party", EPIPE).
 * The app opens no other connections whose errors reach a handler.
 */
const UNAVAILABLE_SOCKET_CODES = new Set(['EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT']);

export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    if (UNAVAILABLE_ERROR_NAMES.has(current.name)) return true;
    if (UNAVAILABLE_SOCKET_CODES.has(String((current as { code?: unknown }).code))) return true;
    // mongoose with bufferCommands off reports a dropped connection this way
    if (current.name === 'MongooseError' && /connection|connect/i.test(current.message)) return true;
    // A bulk write that never reached the server wraps the driver's own error as its errorResponse.
    const { cause, errorResponse } = current as { cause?: unknown; errorResponse?: unknown };
    current = cause ?? (errorResponse instanceof Error ? errorResponse : undefined);
  }
  return false;
}

function fromCode(code: ErrorCode, extra: Partial<Pick<MappedError, 'details' | 'headers' | 'unexpected'>> = {}): MappedError {
  const { status, message } = ERROR_CATALOGUE[code];
  return { code, status, message, headers: {}, unexpected: false, ...extra };
}

function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case HttpStatus.NOT_FOUND:
      return ErrorCode.NOT_FOUND;
    case HttpStatus.PAYLOAD_TOO_LARGE:
      return ErrorCode.PAYLOAD_TOO_LARGE;
    case HttpStatus.UNAUTHORIZED:
      return ErrorCode.SESSION_MISSING;
    case HttpStatus.FORBIDDEN:
      return ErrorCode.FORBIDDEN;
    case HttpStatus.TOO_MANY_REQUESTS:
      return ErrorCode.TOO_MANY_ATTEMPTS;
    case HttpStatus.SERVICE_UNAVAILABLE:
      return ErrorCode.DEPENDENCY_UNAVAILABLE;
    default:
      return status >= 400 && status < 500 ? ErrorCode.INVALID_INPUT : ErrorCode.INTERNAL;
  }
}

/**
 * Maps anything thrown while serving a request to a registry code. Only the
 * registry's own messages reach the client; the original error is for logs.
 */
export function mapError(error: unknown): MappedError {
  if (error instanceof AppException) {
    return fromCode(error.code, { details: error.details, headers: error.headers });
  }
  if (isDatabaseUnavailable(error)) {
    return fromCode(ErrorCode.DEPENDENCY_UNAVAILABLE, { unexpected: true });
  }
  if (error instanceof HttpException) {
    const code = codeForStatus(error.getStatus());
    return fromCode(code, { unexpected: code === ErrorCode.INTERNAL });
  }
  // Errors from body-parser and other http-errors users carry `status` and `type`.
  const httpError = error as { status?: unknown; type?: unknown };
  if (typeof httpError?.type === 'string' && TOO_LARGE_TYPES.has(httpError.type)) {
    return fromCode(ErrorCode.PAYLOAD_TOO_LARGE);
  }
  if (typeof httpError?.status === 'number' && httpError.status >= 400 && httpError.status < 500) {
    return fromCode(codeForStatus(httpError.status));
  }
  return fromCode(ErrorCode.INTERNAL, { unexpected: true });
}
