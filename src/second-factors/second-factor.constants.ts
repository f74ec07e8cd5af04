/** RFC 6238's defaults, the only settings every authenticator app reads alike. */
export const TOTP_ALGORITHM = 'SHA1';
export const TOTP_DIGITS = 6;
export const TOTP_PERIOD_SECONDS = 30;
/** Steps either side of now a code may come from: clocks drift and people type slowly. */
export const TOTP_WINDOW = 1;
/** RFC 4226's recommended secret length: as long as an HMAC-SHA1 output. */
export const TOTP_SECRET_BYTES = 20;
/** What an authenticator app lists the account under. */
export const TOTP_ISSUER = 'Sessions';
export const DEFAULT_TOTP_NAME = 'Authenticator app';

export const RECOVERY_CODE_COUNT = 10;
/** Characters of a recovery code (shown in two halves), from an alphabet without look-alikes. */
export const RECOVERY_CODE_LENGTH = 10;
export const RECOVERY_CODE_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

export const SECOND_FACTORS_COLLECTION = 'second_factors';
export const RECOVERY_CODES_COLLECTION = 'recovery_codes';
