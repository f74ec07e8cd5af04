import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { catchError, Observable, throwError } from 'rxjs';
import { IS_PUBLIC } from '../decorators/public.decorator';
import { CsrfService } from './csrf/csrf.service';

/**
 * What every page's layout and forms read, put in `res.locals` once for the
 * page controllers: the signed-in user (the header, the idle warning) on
 * routes behind the session guard, and the CSRF token that each form and the
 * sign-out button carry. Public pages (the sign-in form) show no user, even
 * to a browser that is signed in.
 *
 * The token is made only when a view renders, for the session as it is then:
 * signing in and re-authenticating change it, and an answer that renders
 * nothing sets no CSRF cookie. A controller's interceptor, not a global one,
 * so JSON routes never pay for RxJS around their handlers.
 */
@Injectable()
export class PageLocalsInterceptor implements NestInterceptor {
  constructor(
    private readonly csrf: CsrfService,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<Request>();
    const res = context.switchToHttp().getResponse<Response>();
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (!isPublic && req.auth.state === 'active') res.locals.user = req.auth.user;
    Object.defineProperty(res.locals, 'csrfToken', { enumerable: true, configurable: true, get: () => this.csrf.token(req, res) });
    return next.handle().pipe(
      catchError((error: unknown) => {
        // The error page is the same for everyone: no signed-in header, no CSRF cookie.
        delete res.locals.user;
        delete res.locals.csrfToken;
        return throwError(() => error);
      }),
    );
  }
}
