import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-codes';
import { CsrfService } from './csrf.service';

/** Every state-changing request, sign-in and sign-out included, needs a valid CSRF token. */
@Injectable()
export class CsrfGuard implements CanActivate {
  constructor(private readonly csrf: CsrfService) {}

  canActivate(context: ExecutionContext): boolean {
    if (this.csrf.isAllowed(context.switchToHttp().getRequest<Request>())) return true;
    throw new AppException(ErrorCode.CSRF_FAILED);
  }
}
