import { randomBytes } from 'node:crypto';
import type { UserRole } from './user.schema';

const CREDENTIAL_STAMP_BYTES = 12;

/** What a request knows of its signed-in user: never the password hash. */
export interface AuthenticatedUser {
  id: string;
  email: string;
  name: string;
  role: UserRole;
}

/** Only the public fields, whatever richer object (a mongoose document) comes in. */
export function toAuthenticatedUser(user: AuthenticatedUser): AuthenticatedUser {
  return { id: user.id, email: user.email, name: user.name, role: user.role };
}

/** An account whose password was just proved, with the credential stamp it was proved under. */
export interface VerifiedUser extends AuthenticatedUser {
  stamp: string;
  /**
   * The known browser whose sign-in counter this proof was counted on: the
   * credential re-read after its session's insert gives the point back.
   */
  device?: string;
}

/** A new credential stamp: random, so no two changes can give the same one. */
export function newCredentialStamp(): string {
  return randomBytes(CREDENTIAL_STAMP_BYTES).toString('base64url');
}
