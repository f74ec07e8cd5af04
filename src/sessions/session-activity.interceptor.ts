import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { Observable } from 'rxjs';
import { SKIP_ACTIVITY } from './skip-activity.decorator';
import { SessionsService } from './sessions.service';

const FIRST_ERROR_STATUS = 400;

/**
 * A request counts as activity when it reaches a route that counts and ends
 * with a status below 400. Requests stopped earlier (unknown routes, guards)
 * never get here, so they never count either.
 */
@Injectable()
export class SessionActivityInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly sessions: SessionsService,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<Request>();
    const res = context.switchToHttp().getResponse<Response>();
    const skip = this.reflector.getAllAndOverride<boolean>(SKIP_ACTIVITY, [context.getHandler(), context.getClass()]);
    if (req.auth?.state === 'active' && !skip) {
      res.once('finish', () => {
        if (res.statusCode < FIRST_ERROR_STATUS) void this.sessions.recordActivity(req);
      });
    }
    return next.handle();
  }
}
