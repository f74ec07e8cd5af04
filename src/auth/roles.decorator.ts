import { SetMetadata } from '@nestjs/common';
import type { UserRole } from '../users/user.schema';

export const ROLES = 'roles';

/** Only these roles may call the route; others get AUTH_1005. */
export const Roles = (...roles: UserRole[]) => SetMetadata(ROLES, roles);
