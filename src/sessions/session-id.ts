import { createHash } from 'node:crypto';

const LOG_REFERENCE_LENGTH = 12;

/**
 * What the database and the API know a session by: a SHA-256 of the cookie
 * token. It cannot be turned back into the token, so neither a copy of the
 * database nor an id shown in a device list lets anyone use the session.
 */
export function sessionStorageId(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** How logs name a session: a short prefix of its public id, never the token. */
export function sessionLogReference(publicId: string): string {
  return publicId.slice(0, LOG_REFERENCE_LENGTH);
}
