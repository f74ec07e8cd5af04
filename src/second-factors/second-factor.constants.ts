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

/** What the browser shows as the site a passkey belongs to. */
export const PASSKEY_RP_NAME = TOTP_ISSUER;
export const PASSKEY_NAME_MAX_LENGTH = 64;
/** Passkeys one account may register: enough for every device a person has, and a bound on what a sign-in lists. */
export const PASSKEYS_PER_USER_MAX = 20;
/** How long the browser lets the person answer their authenticator. */
export const WEBAUTHN_TIMEOUT_MS = 60_000;
/** How long a challenge can be answered: the browser's timeout and a margin for the round trips. */
export const WEBAUTHN_CHALLENGE_TTL_MS = WEBAUTHN_TIMEOUT_MS + 30_000;
/** Random bytes per challenge: above WebAuthn's recommended minimum, so none is ever guessed or repeated. */
export const WEBAUTHN_CHALLENGE_BYTES = 32;
export const WEBAUTHN_CHALLENGES_COLLECTION = 'webauthn_challenges';
/**
 * The longest base64url field a passkey response may carry: room for the
 * longest credential id WebAuthn allows and an attestation without
 * certificates (`none`, all this site asks for); the body limit caps the rest.
 */
export const WEBAUTHN_FIELD_MAX_LENGTH = 16_384;
