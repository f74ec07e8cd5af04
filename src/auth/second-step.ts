import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Request } from 'express';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-codes';
import type { AmrEntry } from '../sessions/amr';
import type { PendingSignIn } from '../sessions/auth-state';
import type { AuthenticatedUser } from '../users/authenticated-user';
import type { SecondStep } from '../sessions/second-step';

export const SECOND_STEP_ROUTE = 'secondStepRoute';
export const ENROLMENT_ROUTE = 'enrolmentRoute';
/** Where a browser finishes a sign-in with a factor, and where an account that must have one enrols it. */
export const SECOND_FACTOR_PAGE = '/login/second-factor';
export const SECURITY_PAGE = '/account/security';

/**
 * The route completes a sign-in's second step: only a pending session
 * reaches it, and a pending session reaches nothing else (but public routes).
 */
export const SecondStepRoute = () => SetMetadata(SECOND_STEP_ROUTE, true);

/**
 * The route enrols a first factor: besides signed-in sessions, a sign-in
 * whose role requires a factor it does not have reaches it (and nothing else
 * but public routes), to set one up.
 */
export const EnrolmentRoute = () => SetMetadata(ENROLMENT_ROUTE, true);

/**
 * Who is enrolling or changing factors: a signed-in session (its amr says
 * what was proven recently), or a sign-in that must enrol before it completes.
 */
export interface FactorOwner {
  user: AuthenticatedUser;
  amr: AmrEntry[];
  /** Set when enrolment completes this sign-in. */
  pending?: PendingSignIn;
}

/** The caller of an @EnrolmentRoute() (or any signed-in route), as FactorEnrolment takes it. */
export const CurrentFactorOwner = createParamDecorator((_data: unknown, context: ExecutionContext): FactorOwner => {
  const auth = context.switchToHttp().getRequest<Request>().auth;
  if (auth?.state === 'active') return { user: auth.user, amr: auth.session.amr };
  if (auth?.state === 'pending' && auth.pending.secondStep.enrol) {
    return { user: auth.pending.user, amr: [{ method: 'pwd', at: auth.pending.createdAt }], pending: auth.pending };
  }
  throw new Error('@CurrentFactorOwner used on a route that is not an @EnrolmentRoute()');
});

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
