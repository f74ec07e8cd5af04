import { Body, Controller, Get, Logger, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { CurrentSession, CurrentUser } from '../common/decorators/current-user.decorator';
import { Public } from '../common/decorators/public.decorator';
import { AppException } from '../common/errors/app.exception';
import { ERROR_CATALOGUE, ErrorCode } from '../common/errors/error-codes';
import { safeNextPath } from '../common/http/safe-redirect';
import type { ActiveSession, AuthenticatedUser } from '../sessions/auth-state';
import { AuthService } from './auth.service';
import { sendClearSiteData } from './clear-session';
import { CsrfOnlyWithSession } from './csrf.guard';
import { CsrfService } from './csrf.service';
import { ChangePasswordFormDto } from './dto/change-password.dto';
import { LoginFormDto } from './dto/login-form.dto';
import { SetsSessionCookie } from './secure-transport.guard';
import { SessionsService } from '../sessions/sessions.service';

export const LOGIN_MESSAGES = {
  inactivity: 'Your session has expired due to inactivity. Please log in again.',
  absolute: 'Your session has expired. Please log in again.',
  loggedOut: 'You have been logged out.',
} as const;

/** Sign-in errors the form shows itself, next to the fields, instead of an error page. */
const FORM_ERRORS = new Set<string>([
  ErrorCode.INVALID_CREDENTIALS,
  ErrorCode.ACCOUNT_DISABLED,
  ErrorCode.TOO_MANY_ATTEMPTS,
]);

/** How a failed password change is reported back to the account page. */
const PASSWORD_OUTCOMES = {
  [ErrorCode.INVALID_CREDENTIALS]: 'wrong',
  [ErrorCode.INVALID_INPUT]: 'weak',
  [ErrorCode.TOO_MANY_ATTEMPTS]: 'locked',
} as const;
type PasswordOutcome = 'changed' | (typeof PASSWORD_OUTCOMES)[keyof typeof PASSWORD_OUTCOMES];

interface LoginPageQuery {
  expired?: unknown;
  loggedOut?: unknown;
  next?: unknown;
}

@ApiExcludeController()
@Controller()
export class AuthPagesController {
  private readonly logger = new Logger(AuthPagesController.name);

  constructor(
    private readonly auth: AuthService,
    private readonly sessions: SessionsService,
    private readonly csrf: CsrfService,
  ) {}

  @Public()
  @Get()
  home(@Req() req: Request, @Res() res: Response): void {
    res.redirect(303, req.auth.state === 'active' ? '/dashboard' : '/login');
  }

  /** Never redirects a dead session onward: it was cleared already, so this is a plain form (no loops). */
  @Public()
  @Get('login')
  loginPage(@Req() req: Request, @Res() res: Response, @Query() query: LoginPageQuery): void {
    if (req.auth.state === 'active') return res.redirect(303, '/dashboard');
    const notice =
      query.expired === 'inactivity' || query.expired === 'absolute'
        ? LOGIN_MESSAGES[query.expired]
        : query.loggedOut === '1'
          ? LOGIN_MESSAGES.loggedOut
          : undefined;
    this.renderLogin(req, res, { notice, next: safeNextPath(query.next, '') });
  }

  @Public()
  @Post('login')
  @SetsSessionCookie()
  async login(@Req() req: Request, @Res() res: Response, @Body() form: LoginFormDto): Promise<void> {
    const next = safeNextPath(form.next, '');
    try {
      if (!form.email || !form.password) throw new AppException(ErrorCode.INVALID_CREDENTIALS);
      await this.auth.signIn(req, form.email, form.password);
    } catch (error) {
      if (!(error instanceof AppException) || !FORM_ERRORS.has(error.code)) throw error;
      const { status, message } = ERROR_CATALOGUE[error.code];
      res.status(status).set(error.headers);
      return this.renderLogin(req, res, { error: message, code: error.code, email: form.email ?? '', next });
    }
    res.redirect(303, next || '/dashboard');
  }

  @Public()
  @CsrfOnlyWithSession()
  @Post('logout')
  async logout(@Req() req: Request, @Res() res: Response): Promise<void> {
    try {
      await this.auth.signOut(req);
    } catch (error) {
      this.logger.error({ err: error }, 'Sign-out could not delete the session');
    }
    this.sessions.clearCookie(res);
    sendClearSiteData(res);
    res.redirect(303, '/login?loggedOut=1');
  }

  /** The password form on /account/sessions; the outcome comes back as `?password=`. */
  @Post('account/password')
  async changePassword(@Req() req: Request, @Res() res: Response, @CurrentUser() user: AuthenticatedUser, @Body() form: ChangePasswordFormDto) {
    let outcome: PasswordOutcome = 'changed';
    try {
      await this.auth.changePassword(req, user, form.currentPassword, form.newPassword);
    } catch (error) {
      if (!(error instanceof AppException) || !(error.code in PASSWORD_OUTCOMES)) throw error;
      outcome = PASSWORD_OUTCOMES[error.code as keyof typeof PASSWORD_OUTCOMES];
    }
    res.redirect(303, `/account/sessions?password=${outcome}`);
  }

  @Get('dashboard')
  dashboard(
    @Req() req: Request,
    @Res() res: Response,
    @CurrentUser() user: AuthenticatedUser,
    @CurrentSession() session: ActiveSession,
  ): void {
    res.render('dashboard', { title: 'Dashboard', user, session, csrfToken: this.csrf.token(req, res) });
  }

  private renderLogin(req: Request, res: Response, view: Record<string, unknown>): void {
    res.render('login', { title: 'Sign in', csrfToken: this.csrf.token(req, res), ...view });
  }
}
