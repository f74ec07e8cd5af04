const LOG_REFERENCE_LENGTH = 12;

/** How logs name a session: a short prefix of its public id, never the token. */
export function sessionLogReference(publicId: string): string {
  return publicId.slice(0, LOG_REFERENCE_LENGTH);
}
