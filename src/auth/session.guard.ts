import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { IS_PUBLIC } from '../common/decorators/public.decorator';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-codes';

/** Every route needs a live session unless marked @Public(); the cookie is the only credential. */
@Injectable()
export class SessionGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const auth = context.switchToHttp().getRequest<Request>().auth;
    switch (auth?.state) {
      case 'active':
        return true;
      case 'expired':
        throw new AppException(ErrorCode.SESSION_EXPIRED, { reason: auth.reason });
      case 'invalid':
        throw new AppException(ErrorCode.SESSION_INVALID);
      case 'device_changed':
        throw new AppException(ErrorCode.DEVICE_CHANGED, { reason: 'device' });
      case 'unverified':
        throw new AppException(ErrorCode.DEPENDENCY_UNAVAILABLE);
      default:
        throw new AppException(ErrorCode.SESSION_MISSING);
    }
  }
}
