import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Request } from 'express';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-codes';
import type { PendingSignIn } from '../sessions/auth-state';
import type { SecondStep } from '../sessions/second-step';

export const SECOND_STEP_ROUTE = 'secondStepRoute';
/** Where a browser finishes a sign-in with a factor, and where an account that must have one enrols it. */
export const SECOND_FACTOR_PAGE = '/login/second-factor';
export const SECURITY_PAGE = '/account/security';

/**
 * The route completes a sign-in's second step: only a pending session
 * reaches it, and a pending session reaches nothing else (but public routes).
 */
export const SecondStepRoute = () => SetMetadata(SECOND_STEP_ROUTE, true);

/** The sign-in waiting for its second step; only on @SecondStepRoute() routes. */
export const CurrentPendingSignIn = createParamDecorator((_data: unknown, context: ExecutionContext): PendingSignIn => {
  const auth = context.switchToHttp().getRequest<Request>().auth;
  if (auth?.state !== 'pending') throw new Error('@CurrentPendingSignIn used on a route that is not a @SecondStepRoute()');
  return auth.pending;
});

/** AUTH_1012 for a pending session anywhere but its second step: how to finish (`methods`) and where (`secondFactorUrl`). */
export function secondFactorRequired({ methods, enrol }: SecondStep): AppException {
  return new AppException(ErrorCode.SECOND_FACTOR_REQUIRED, {
    methods,
    ...(enrol ? { enrol: true, secondFactorUrl: SECURITY_PAGE } : { secondFactorUrl: SECOND_FACTOR_PAGE }),
  });
}
