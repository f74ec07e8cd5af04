import { Body, Controller, Get, Logger, Post, Query, Req, Res, UseInterceptors } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../common/decorators/public.decorator';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-codes';
import { ExpectedError, showFormError } from '../common/errors/form-errors';
import { CsrfOnlyWithSession } from '../common/http/csrf/csrf.guard';
import { PageLocalsInterceptor } from '../common/http/page-locals.interceptor';
import { safeNextPath } from '../common/http/safe-redirect';
import { CurrentUser } from '../session-http/current-session.decorator';
import { SessionHttpAdapter } from '../session-http/session-http.adapter';
import { SignsOut } from '../session-http/signs-out.decorator';
import type { AuthenticatedUser } from '../users/authenticated-user';
import type { PendingSignIn } from '../sessions/auth-state';
import { BrowserSignIn, SignInOutcome } from './browser-sign-in.service';
import { sendClearSiteData } from './clear-session';
import { LoginFormDto } from './dto/login-form.dto';
import { ReauthFormDto } from './dto/reauth.dto';
import { SecondStepFormDto } from './dto/second-factor.dto';
import { CurrentPendingSignIn, SECOND_FACTOR_PAGE, SecondStepRoute, SECURITY_PAGE } from './second-step';
import { SetsSessionCookie } from './secure-transport.guard';

export const LOGIN_MESSAGES = {
  inactivity: 'Your session has expired due to inactivity. Please log in again.',
  absolute: 'Your session has expired. Please log in again.',
  device: 'Your session was ended because it was used from another browser or device. Please log in again.',
  loggedOut: 'You have been logged out.',
  passwordChanged: 'Your password has been changed, and this session had been logged out meanwhile. Log in with the new password.',
} as const;
const EXPIRY_MESSAGES = new Set(['inactivity', 'absolute', 'device']);
/** `?loggedOut=`: a sign-out, or a session signed out while its password was being changed. */
const LOGGED_OUT_MESSAGES = new Map<unknown, string>([
  ['1', LOGIN_MESSAGES.loggedOut],
  ['password', LOGIN_MESSAGES.passwordChanged],
]);

/** Password errors the sign-in and re-authentication forms show themselves, in the registry's words, instead of an error page. */
const PASSWORD_FORM_ERRORS = {
  wrong: { code: ErrorCode.INVALID_CREDENTIALS },
  disabled: { code: ErrorCode.ACCOUNT_DISABLED },
  locked: { code: ErrorCode.TOO_MANY_ATTEMPTS },
  busy: { code: ErrorCode.BUSY },
} satisfies Record<string, ExpectedError>;

/** The re-authentication form takes a password or a code. */
const REAUTH_FORM_ERRORS = { ...PASSWORD_FORM_ERRORS, wrongCode: { code: ErrorCode.INVALID_CODE } } satisfies Record<string, ExpectedError>;

/** Code errors the second-step form shows itself. */
const CODE_FORM_ERRORS = {
  wrong: { code: ErrorCode.INVALID_CODE },
  locked: { code: ErrorCode.TOO_MANY_ATTEMPTS },
  busy: { code: ErrorCode.BUSY },
} satisfies Record<string, ExpectedError>;

interface LoginPageQuery {
  expired?: unknown;
  loggedOut?: unknown;
  next?: unknown;
}

/** The way in and out for browsers: `/`, the sign-in form, sign-out. */
@ApiExcludeController()
@UseInterceptors(PageLocalsInterceptor)
@Controller()
export class AuthPagesController {
  private readonly logger = new Logger(AuthPagesController.name);

  constructor(
    private readonly signIn: BrowserSignIn,
    private readonly http: SessionHttpAdapter,
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
    renderLogin(res, { notice: loginNotice(query), next: safeNextPath(query.next, '') });
  }

  @Public()
  @Post('login')
  @SetsSessionCookie()
  async login(@Req() req: Request, @Res() res: Response, @Body() form: LoginFormDto): Promise<void> {
    const next = safeNextPath(form.next, '');
    let outcome: SignInOutcome;
    try {
      if (!form.email || !form.password) throw new AppException(ErrorCode.INVALID_CREDENTIALS);
      outcome = await this.signIn.signIn(req, res, form.email, form.password);
    } catch (error) {
      return renderLogin(res, { ...showFormError(res, error, PASSWORD_FORM_ERRORS), email: form.email ?? '', next });
    }
    if ('secondFactor' in outcome) return res.redirect(303, secondStepPage(outcome.secondFactor.enrol === true, next));
    res.redirect(303, next || '/dashboard');
  }

  /** The second step's form; without a sign-in waiting for it, back to the password form. */
  @Public()
  @Get(SECOND_FACTOR_PAGE)
  secondFactorPage(@Req() req: Request, @Res() res: Response, @Query('next') next: unknown): void {
    if (req.auth.state !== 'pending') return res.redirect(303, '/login');
    const { pending } = req.auth;
    if (pending.secondStep.enrol) return res.redirect(303, SECURITY_PAGE);
    renderSecondFactor(res, pending, { next: safeNextPath(next, '') });
  }

  @SecondStepRoute()
  @Post(SECOND_FACTOR_PAGE)
  @SetsSessionCookie()
  async secondFactor(
    @Req() req: Request,
    @Res() res: Response,
    @CurrentPendingSignIn() pending: PendingSignIn,
    @Body() form: SecondStepFormDto,
  ): Promise<void> {
    const next = safeNextPath(form.next, '');
    try {
      if (!form.code) throw new AppException(ErrorCode.INVALID_CODE);
      if (form.method === 'totp') await this.signIn.completeWithTotp(req, res, pending, form.code);
      else await this.signIn.completeWithRecoveryCode(req, res, pending, form.code);
    } catch (error) {
      return renderSecondFactor(res, pending, { ...showFormError(res, error, CODE_FORM_ERRORS), next });
    }
    res.redirect(303, next || '/dashboard');
  }

  @Public()
  @SignsOut()
  @CsrfOnlyWithSession()
  @Post('logout')
  async logout(@Req() req: Request, @Res() res: Response): Promise<void> {
    try {
      await this.http.end(req);
    } catch (error) {
      this.logger.error({ err: error }, 'Sign-out could not delete the session');
    }
    this.http.clearCookie(res);
    sendClearSiteData(res);
    res.redirect(303, '/login?loggedOut=1');
  }

  /** The password (or, once the account has a factor, a code) again, before a sensitive action; then back to the page it came from. */
  @Get('reauth')
  async reauthPage(@Res() res: Response, @CurrentUser() user: AuthenticatedUser, @Query('next') next: unknown): Promise<void> {
    renderReauth(res, { next: safeNextPath(next), ...(await this.signIn.reauthMethods(user)) });
  }

  @Post('reauth')
  async reauth(
    @Req() req: Request,
    @Res() res: Response,
    @CurrentUser() user: AuthenticatedUser,
    @Body() form: ReauthFormDto,
  ): Promise<void> {
    const next = safeNextPath(form.next);
    try {
      if (form.code) await this.signIn.reauthenticate(req, user, { code: form.code });
      else if (form.password) await this.signIn.reauthenticate(req, user, { password: form.password });
      else throw new AppException(ErrorCode.INVALID_CREDENTIALS);
    } catch (error) {
      const shown = showFormError(res, error, REAUTH_FORM_ERRORS);
      return renderReauth(res, { ...shown, next, ...(await this.signIn.reauthMethods(user)) });
    }
    res.redirect(303, next);
  }
}

function renderLogin(res: Response, view: Record<string, unknown>): void {
  res.render('login', { title: 'Sign in', ...view });
}

/** Where the password step sends a browser that has a second step to take (or a first factor to enrol). */
function secondStepPage(enrol: boolean, next: string): string {
  if (enrol) return SECURITY_PAGE;
  return next ? `${SECOND_FACTOR_PAGE}?${new URLSearchParams({ next }).toString()}` : SECOND_FACTOR_PAGE;
}

function renderSecondFactor(res: Response, pending: PendingSignIn, view: Record<string, unknown>): void {
  const { methods } = pending.secondStep;
  res.render('login-second-factor', {
    title: 'Two-step verification',
    email: pending.user.email,
    totp: methods.includes('totp'),
    passkey: methods.includes('passkey'),
    recovery: methods.includes('recovery'),
    ...view,
  });
}

function renderReauth(res: Response, view: Record<string, unknown>): void {
  res.render('reauth', { title: 'Confirm your password', ...view });
}

function loginNotice({ expired, loggedOut }: LoginPageQuery): string | undefined {
  if (typeof expired === 'string' && EXPIRY_MESSAGES.has(expired)) return LOGIN_MESSAGES[expired as keyof typeof LOGIN_MESSAGES];
  return LOGGED_OUT_MESSAGES.get(loggedOut);
}
