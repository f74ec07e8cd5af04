import { createHash } from 'node:crypto';

/**
 * What the database and the API know a session by: a SHA-256 of the cookie
 * token. It cannot be turned back into the token, so neither a copy of the
 * database nor an id shown in a device list lets anyone use the session.
 */
export function sessionStorageId(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
