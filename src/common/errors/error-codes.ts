import { HttpStatus } from '@nestjs/common';

/** The one registry of error codes a client can see; README lists them. */
export const ErrorCode = {
  INVALID_CREDENTIALS: 'AUTH_1001',
  SESSION_EXPIRED: 'AUTH_1002',
  SESSION_INVALID: 'AUTH_1003',
  SESSION_MISSING: 'AUTH_1004',
  FORBIDDEN: 'AUTH_1005',
  TOO_MANY_ATTEMPTS: 'AUTH_1006',
  ACCOUNT_DISABLED: 'AUTH_1007',
  CSRF_FAILED: 'AUTH_1008',
  REAUTH_REQUIRED: 'AUTH_1009',
  DEVICE_CHANGED: 'AUTH_1010',
  HTTPS_REQUIRED: 'AUTH_1011',
  SECOND_FACTOR_REQUIRED: 'AUTH_1012',
  INVALID_CODE: 'AUTH_1013',
  INVALID_INPUT: 'VAL_2001',
  PAYLOAD_TOO_LARGE: 'VAL_2002',
  NOT_FOUND: 'RES_3001',
  LAST_ACTIVE_ADMIN: 'RES_3002',
  INTERNAL: 'SYS_9001',
  DEPENDENCY_UNAVAILABLE: 'SYS_9002',
  BUSY: 'SYS_9003',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface ErrorDefinition {
  status: HttpStatus;
  message: string;
}

export const ERROR_CATALOGUE: Record<ErrorCode, ErrorDefinition> = {
  AUTH_1001: { status: HttpStatus.UNAUTHORIZED, message: 'Invalid email or password' },
  AUTH_1002: { status: HttpStatus.UNAUTHORIZED, message: 'Your session has expired. Please log in again.' },
  AUTH_1003: { status: HttpStatus.UNAUTHORIZED, message: 'Your session is no longer valid. Please log in again.' },
  AUTH_1004: { status: HttpStatus.UNAUTHORIZED, message: 'You need to log in.' },
  AUTH_1005: { status: HttpStatus.FORBIDDEN, message: 'You do not have permission to do that.' },
  AUTH_1006: { status: HttpStatus.TOO_MANY_REQUESTS, message: 'Too many failed sign-ins. Try again later.' },
  AUTH_1007: { status: HttpStatus.FORBIDDEN, message: 'This account is disabled.' },
  AUTH_1008: { status: HttpStatus.FORBIDDEN, message: 'The request could not be verified. Reload the page and try again.' },
  AUTH_1009: { status: HttpStatus.FORBIDDEN, message: 'Re-authentication required: confirm your password to continue.' },
  AUTH_1010: {
    status: HttpStatus.UNAUTHORIZED,
    message: 'Your session ended because it was used from another browser or device. Please log in again.',
  },
  AUTH_1011: {
    status: HttpStatus.FORBIDDEN,
    message: 'HTTPS required: Secure cookies cannot be set on this connection. Use https://, or check TRUST_PROXY and COOKIE_SECURE.',
  },
  AUTH_1012: { status: HttpStatus.UNAUTHORIZED, message: 'A second factor is required to finish signing in.' },
  AUTH_1013: { status: HttpStatus.UNAUTHORIZED, message: 'That code is not valid or has already been used.' },
  VAL_2001: { status: HttpStatus.BAD_REQUEST, message: 'The request is malformed or invalid.' },
  VAL_2002: { status: HttpStatus.PAYLOAD_TOO_LARGE, message: 'The request body is too large.' },
  RES_3001: { status: HttpStatus.NOT_FOUND, message: 'Not found.' },
  RES_3002: {
    status: HttpStatus.CONFLICT,
    message: 'This change would leave no active administrator. Enable or promote another administrator first.',
  },
  SYS_9001: { status: HttpStatus.INTERNAL_SERVER_ERROR, message: 'Something went wrong on our side.' },
  SYS_9002: { status: HttpStatus.SERVICE_UNAVAILABLE, message: 'The service is temporarily unavailable. Try again shortly.' },
  SYS_9003: { status: HttpStatus.SERVICE_UNAVAILABLE, message: 'Too many people are signing in right now. Try again in a moment.' },
};
