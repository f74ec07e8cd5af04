import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { RecentAuthPolicy, REQUIRES_RECENT_AUTH } from '../sessions/recent-auth.policy';

/** Enforces @RequiresRecentAuth(); runs after the session guard, so the session is known. */
@Injectable()
export class RecentAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly policy: RecentAuthPolicy,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (!this.reflector.getAllAndOverride<boolean>(REQUIRES_RECENT_AUTH, [context.getHandler(), context.getClass()])) return true;
    const auth = context.switchToHttp().getRequest<Request>().auth;
    if (auth?.state === 'active') this.policy.assertRecent(auth.session);
    return true;
  }
}
