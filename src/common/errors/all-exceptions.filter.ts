import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { RequestContext } from '../context/request-context';
import { isApiRequest } from '../http/request-kind';
import { AppException } from './app.exception';
import { ErrorCode } from './error-codes';
import { mapError, MappedError } from './error-mapping';

const SESSION_ERRORS = new Set<string>([
  ErrorCode.SESSION_EXPIRED,
  ErrorCode.SESSION_INVALID,
  ErrorCode.SESSION_MISSING,
  ErrorCode.DEVICE_CHANGED,
]);

/**
 * The one place errors become responses: JSON `{ error: { code, message,
 * correlationId, details? } }` for the API, an HTML page (or the login
 * redirect, for a missing or dead session) for pages.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const req = host.switchToHttp().getRequest<Request>();
    const res = host.switchToHttp().getResponse<Response>();
    const error = mapError(exception);
    const correlationId = req.correlationId ?? RequestContext.correlationId();

    if (error.unexpected) {
      this.logger.error(
        { err: exception, code: error.code, correlationId, elapsedMs: RequestContext.elapsedMs() },
        `${error.code} on ${req.method} ${req.path}`,
      );
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    res.set(error.headers);
    if (isApiRequest(req)) {
      res
        .status(error.status)
        .type('application/json')
        .json({
          error: { code: error.code, message: error.message, correlationId, ...(error.details && { details: error.details }) },
        });
      return;
    }
    if (SESSION_ERRORS.has(error.code)) {
      res.redirect(303, loginRedirect(req, exception));
      return;
    }
    if (error.code === ErrorCode.REAUTH_REQUIRED) {
      res.redirect(303, reauthRedirect(req, String(error.details?.reauthUrl)));
      return;
    }
    // A sign-in waiting for its second step (or for enrolment) is sent to finish it.
    if (error.code === ErrorCode.SECOND_FACTOR_REQUIRED && typeof error.details?.secondFactorUrl === 'string') {
      res.redirect(303, error.details.secondFactorUrl);
      return;
    }
    this.renderPage(res, error, correlationId);
  }

  private renderPage(res: Response, error: MappedError, correlationId: string | undefined): void {
    res.status(error.status).render('error', { title: 'Error', status: error.status, error, correlationId }, (renderError, html) => {
      res.type(renderError ? 'text/plain' : 'html').send(renderError ? `${error.code}: ${error.message}` : html);
    });
  }
}

/**
 * `/reauth?next=<page>`: back to the page the action was on (a form post's
 * same-site Referer), or the page itself for a GET, once the password is given.
 */
export function reauthRedirect(req: Request, reauthUrl: string): string {
  const referer = req.get('referer');
  const sameSite = referer && URL.canParse(referer) && new URL(referer).host === req.get('host') ? new URL(referer) : undefined;
  const back = req.method === 'GET' ? req.originalUrl : sameSite ? `${sameSite.pathname}${sameSite.search}` : '/dashboard';
  return `${reauthUrl}?${new URLSearchParams({ next: back }).toString()}`;
}

/** `/login?next=<page>[&expired=<reason>]`: one hop, never back to a page that redirects again. */
export function loginRedirect(req: Request, exception: unknown): string {
  const params = new URLSearchParams();
  if (req.method === 'GET') params.set('next', req.originalUrl);
  const reason = exception instanceof AppException ? exception.details?.reason : undefined;
  if (typeof reason === 'string') params.set('expired', reason);
  const query = params.toString();
  return query ? `/login?${query}` : '/login';
}
