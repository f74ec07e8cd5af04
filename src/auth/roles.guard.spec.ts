import { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Roles } from './roles.decorator';
import { AppException } from '../common/errors/app.exception';
import type { AuthState } from '../sessions/auth-state';
import type { UserRole } from '../users/user.schema';
import { RolesGuard } from './roles.guard';

class AdminOnly {
  @Roles('admin')
  handler() {}

  open() {}
}

function contextFor(method: 'handler' | 'open', auth: AuthState): ExecutionContext {
  return {
    getHandler: () => AdminOnly.prototype[method],
    getClass: () => AdminOnly,
    switchToHttp: () => ({ getRequest: () => ({ auth }) }),
  } as unknown as ExecutionContext;
}

const signedIn = (role: UserRole): AuthState => ({
  state: 'active',
  user: { id: '1', email: 'a@b.c', name: '', role },
  session: {
    id: 'a1',
    authenticatedAt: new Date(),
    endedAtSignIn: 0,
    amr: [{ method: 'pwd', at: new Date() }],
    createdAt: new Date(),
    lastActivityAt: new Date(),
    idleExpiresAt: new Date(),
    absoluteExpiresAt: new Date(),
  },
});

describe('RolesGuard', () => {
  const sut = new RolesGuard(new Reflector());

  it('lets an admin through an @Roles("admin") route', () => {
    expect(sut.canActivate(contextFor('handler', signedIn('admin')))).toBe(true);
  });

  it('refuses a user with AUTH_1005', () => {
    expect(() => sut.canActivate(contextFor('handler', signedIn('user')))).toThrow(
      expect.objectContaining<Partial<AppException>>({ code: 'AUTH_1005' }),
    );
  });

  it('ignores routes without @Roles', () => {
    expect(sut.canActivate(contextFor('open', signedIn('user')))).toBe(true);
  });
});
