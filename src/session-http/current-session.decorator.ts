import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { AuthenticatedUser } from '../users/authenticated-user';
import type { ActiveSession } from '../sessions/auth-state';

function activeAuth(context: ExecutionContext) {
  const auth = context.switchToHttp().getRequest<Request>().auth;
  if (auth?.state !== 'active') throw new Error('@CurrentUser/@CurrentSession used on a public route');
  return auth;
}

/** The signed-in user; only on routes behind the session guard. */
export const CurrentUser = createParamDecorator((_data: unknown, context: ExecutionContext): AuthenticatedUser => activeAuth(context).user);

/** The signed-in session: its public id, timestamps and deadlines. */
export const CurrentSession = createParamDecorator(
  (_data: unknown, context: ExecutionContext): ActiveSession => activeAuth(context).session,
);
