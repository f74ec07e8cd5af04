import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ROLES } from './roles.decorator';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-codes';
import type { UserRole } from '../users/user.schema';

/** Enforces @Roles(); runs after SessionGuard, so the caller is known. */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const roles = this.reflector.getAllAndOverride<UserRole[]>(ROLES, [context.getHandler(), context.getClass()]);
    if (!roles?.length) return true;
    const auth = context.switchToHttp().getRequest<Request>().auth;
    if (auth?.state === 'active' && roles.includes(auth.user.role)) return true;
    throw new AppException(ErrorCode.FORBIDDEN);
  }
}
