import { ErrorCode } from './error-codes';

/** An error the client is meant to see: a registry code plus optional details and headers. */
export class AppException extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly details?: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(code);
    this.name = 'AppException';
  }
}
