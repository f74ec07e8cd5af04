import type { NestExpressApplication } from '@nestjs/platform-express';
import { randomBytes } from 'node:crypto';
import type { UserRole } from '../../src/users/user.schema';
import { UsersService } from '../../src/users/users.service';

export interface TestUser {
  id: string;
  email: string;
  password: string;
  role: UserRole;
}

/** A real user in the app's database; the password is returned so tests can sign in. */
export async function createUser(
  app: NestExpressApplication,
  overrides: Partial<Omit<TestUser, 'id'>> & { name?: string } = {},
): Promise<TestUser> {
  const email = overrides.email ?? `user-${randomBytes(4).toString('hex')}@example.test`;
  const password = overrides.password ?? `pw-${randomBytes(12).toString('hex')}`;
  const role = overrides.role ?? 'user';
  const user = await app.get(UsersService).create({ email, password, role, name: overrides.name });
  return { id: user.id, email: user.email, password, role };
}
