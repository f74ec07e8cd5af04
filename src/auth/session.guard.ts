import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { IS_PUBLIC } from '../common/decorators/public.decorator';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-codes';
import { SessionHttpAdapter } from '../session-http/session-http.adapter';
import { SIGNS_OUT } from '../session-http/signs-out.decorator';
import { SKIP_ACTIVITY } from '../session-http/skip-activity.decorator';
import { ENROLMENT_ROUTE, SECOND_STEP_ROUTE, secondFactorRequired } from './second-step';

/**
 * Every route needs a live session unless marked @Public(); the cookie is the
 * only credential. A live session's request that reaches a route counts as
 * activity when it ends well. This is a guard, not an interceptor, because
 * Nest wraps every request in RxJS and async hooks as soon as one interceptor
 * is global (a tenth of the anonymous pipeline's CPU, profiled).
 */
@Injectable()
export class SessionGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly http: SessionHttpAdapter,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    const auth = req.auth;
    if (auth?.state === 'active' && !this.reflector.getAllAndOverride<boolean>(SKIP_ACTIVITY, targets)) {
      this.http.countActivityIfSuccessful(req, http.getResponse<Response>());
    }
    // MongoDB could not load the session: a sign-out goes on (its cookie is cleared), anything else fails as the store did.
    if (req.sessionLoadError !== undefined && !this.reflector.getAllAndOverride<boolean>(SIGNS_OUT, targets)) throw req.sessionLoadError;
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    if (this.reflector.getAllAndOverride<boolean>(SECOND_STEP_ROUTE, targets)) {
      if (auth?.state === 'pending') return true;
      // Signed in already, or never started: there is no sign-in waiting for this step.
      if (auth?.state === 'active' || auth?.state === 'anonymous') throw new AppException(ErrorCode.SESSION_MISSING);
    }
    // A sign-in whose role requires a factor it lacks may set one up, and do nothing else.
    if (auth?.state === 'pending' && auth.pending.secondStep.enrol && this.reflector.getAllAndOverride<boolean>(ENROLMENT_ROUTE, targets)) {
      return true;
    }
    switch (auth?.state) {
      case 'active':
        return true;
      case 'expired':
        throw new AppException(ErrorCode.SESSION_EXPIRED, { reason: auth.reason });
      case 'invalid':
        throw new AppException(ErrorCode.SESSION_INVALID);
      case 'device_changed':
        throw new AppException(ErrorCode.DEVICE_CHANGED, { reason: 'device' });
      case 'pending':
        throw secondFactorRequired(auth.pending.secondStep);
      default:
        throw new AppException(ErrorCode.SESSION_MISSING);
    }
  }
}
