/** Length limits of what people type to sign in, shared by the DTOs, the password policy and boot validation. */
export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 256;
/** RFC 5321's limit on a forward path. */
export const MAX_EMAIL_LENGTH = 254;
