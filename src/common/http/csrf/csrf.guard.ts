import { CanActivate, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { AppException } from '../../errors/app.exception';
import { ErrorCode } from '../../errors/error-codes';
import { CSRF_FORM_FIELD, CsrfService } from './csrf.service';

const CSRF_ONLY_WITH_SESSION = 'csrfOnlyWithSession';

/**
 * Sign-out: forging it can only end a live session, so only a live (or
 * unverifiable) session needs the token. Signing out an ended one is then
 * idempotent: 204 and the cookie cleared, whatever token the page still holds.
 */
export const CsrfOnlyWithSession = () => SetMetadata(CSRF_ONLY_WITH_SESSION, true);

/**
 * Every state-changing request, sign-in and sign-out included, needs a valid
 * CSRF token. A form's `_csrf` field is consumed here, so DTOs never see it.
 */
@Injectable()
export class CsrfGuard implements CanActivate {
  constructor(
    private readonly csrf: CsrfService,
    private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    const allowed =
      this.csrf.isAllowed(req) || (this.onlyWithSession(context) && req.auth?.state !== 'active' && req.auth?.state !== 'unverified');
    if (!allowed) throw new AppException(ErrorCode.CSRF_FAILED);
    if (req.body && typeof req.body === 'object') delete (req.body as Record<string, unknown>)[CSRF_FORM_FIELD];
    return true;
  }

  private onlyWithSession(context: ExecutionContext): boolean {
    return this.reflector.getAllAndOverride<boolean>(CSRF_ONLY_WITH_SESSION, [context.getHandler(), context.getClass()]) === true;
  }
}
