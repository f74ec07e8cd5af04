import type { UserRole } from './user.schema';

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
