import { CanActivate, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-codes';
import { CsrfService } from './csrf.service';

const CSRF_ONLY_WITH_SESSION = 'csrfOnlyWithSession';

/**
 * Sign-out: forging it can only end a live session, so only a live (or
 * unverifiable) session needs the token. Signing out an ended one is then
 * idempotent: 204 and the cookie cleared, whatever token the page still holds.
 */
export const CsrfOnlyWithSession = () => SetMetadata(CSRF_ONLY_WITH_SESSION, true);

/** Every state-changing request, sign-in and sign-out included, needs a valid CSRF token. */
@Injectable()
export class CsrfGuard implements CanActivate {
  constructor(
    private readonly csrf: CsrfService,
    private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    if (this.csrf.isAllowed(req)) return true;
    const onlyWithSession = this.reflector.getAllAndOverride<boolean>(CSRF_ONLY_WITH_SESSION, [context.getHandler(), context.getClass()]);
    if (onlyWithSession && req.auth?.state !== 'active' && req.auth?.state !== 'unverified') return true;
    throw new AppException(ErrorCode.CSRF_FAILED);
  }
}
