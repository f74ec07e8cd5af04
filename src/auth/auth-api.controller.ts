import { Body, Controller, Get, HttpCode, HttpStatus, Logger, Post, Req, Res } from '@nestjs/common';
import { ApiCookieAuth, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../common/decorators/public.decorator';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-codes';
import { CsrfOnlyWithSession } from '../common/http/csrf/csrf.guard';
import { CsrfService } from '../common/http/csrf/csrf.service';
import type { ActiveSession } from '../sessions/auth-state';
import { CurrentSession, CurrentUser } from '../session-http/current-session.decorator';
import { SessionHttpAdapter } from '../session-http/session-http.adapter';
import { SignsOut } from '../session-http/signs-out.decorator';
import { SessionsService, SessionView } from '../sessions/sessions.service';
import { SkipActivity } from '../session-http/skip-activity.decorator';
import type { AuthenticatedUser } from '../users/authenticated-user';
import { AuthService } from './auth.service';
import { BrowserSignIn, SignInOutcome } from './browser-sign-in.service';
import { sendClearSiteData } from './clear-session';
import { ChangePasswordDto } from './dto/change-password.dto';
import { LoginDto } from './dto/login.dto';
import { ReauthDto } from './dto/reauth.dto';
import { OneTimeCodeDto } from './dto/second-factor.dto';
import { CurrentPendingSignIn, SecondStepRoute } from './second-step';
import type { PendingSignIn } from '../sessions/auth-state';
import { SetsSessionCookie } from './secure-transport.guard';

@ApiTags('auth')
@ApiCookieAuth()
@Controller('api/auth')
export class AuthApiController {
  private readonly logger = new Logger(AuthApiController.name);

  constructor(
    private readonly auth: AuthService,
    private readonly signIn: BrowserSignIn,
    private readonly http: SessionHttpAdapter,
    private readonly csrf: CsrfService,
  ) {}

  /** A token for `X-CSRF-Token`; fetch a new one after signing in or changing the password. */
  @Public()
  @Get('csrf')
  csrfToken(@Req() req: Request, @Res({ passthrough: true }) res: Response): { token: string } {
    return { token: this.csrf.token(req, res) };
  }

  /** `{ user }` when signed in; `{ secondFactor: { methods } }` when the account has a factor: the session then allows only the second step. */
  @Public()
  @Post('login')
  @SetsSessionCookie()
  @HttpCode(HttpStatus.OK)
  login(@Req() req: Request, @Res({ passthrough: true }) res: Response, @Body() body: LoginDto): Promise<SignInOutcome> {
    return this.signIn.signIn(req, res, body.email, body.password);
  }

  /** The second step with an authenticator-app code; the sign-in completes under a new session id. */
  @SecondStepRoute()
  @Post('login/totp')
  @SetsSessionCookie()
  @HttpCode(HttpStatus.OK)
  async loginWithTotp(
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
    @CurrentPendingSignIn() pending: PendingSignIn,
    @Body() body: OneTimeCodeDto,
  ): Promise<{ user: AuthenticatedUser }> {
    return { user: await this.signIn.completeWithTotp(req, res, pending, body.code) };
  }

  /** The second step with a recovery code (spent; the account's other sessions end); says how many are left. */
  @SecondStepRoute()
  @Post('login/recovery')
  @SetsSessionCookie()
  @HttpCode(HttpStatus.OK)
  loginWithRecoveryCode(
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
    @CurrentPendingSignIn() pending: PendingSignIn,
    @Body() body: OneTimeCodeDto,
  ): Promise<{ user: AuthenticatedUser; recoveryCodesLeft: number }> {
    return this.signIn.completeWithRecoveryCode(req, res, pending, body.code);
  }

  /** `{ password }`, `{ code }` or `{ passkey }` (the answer to reauth/passkey/options): 204; sensitive actions are open for REAUTH_MINUTES. Wrong passwords, codes and passkeys count toward the lockout. */
  @Post('reauth')
  @HttpCode(HttpStatus.NO_CONTENT)
  async reauth(@Req() req: Request, @CurrentUser() user: AuthenticatedUser, @Body() body: ReauthDto): Promise<void> {
    await this.signIn.reauthenticate(req, user, body);
  }

  /** 204 when the session is gone (already ended too); the cookie is cleared even when the store fails (then 503). */
  @Public()
  @SignsOut()
  @CsrfOnlyWithSession()
  @Post('logout')
  @HttpCode(HttpStatus.NO_CONTENT)
  async logout(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<void> {
    this.http.clearCookie(res);
    sendClearSiteData(res);
    try {
      await this.http.end(req);
    } catch (error) {
      this.logger.error({ err: error }, 'Sign-out could not delete the session');
      throw new AppException(ErrorCode.DEPENDENCY_UNAVAILABLE);
    }
  }

  /**
   * 204; every other session of the user ends, and this one continues under a new id (new cookie),
   * or, signed out or disabled while the password was being changed, its cookie is cleared.
   */
  @Post('password')
  @HttpCode(HttpStatus.NO_CONTENT)
  async changePassword(
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
    @CurrentUser() user: AuthenticatedUser,
    @Body() body: ChangePasswordDto,
  ): Promise<void> {
    if (!(await this.signIn.changePassword(req, user, body.currentPassword, body.newPassword))) this.http.clearCookie(res);
  }

  @Get('me')
  me(@CurrentUser() user: AuthenticatedUser, @CurrentSession() session: ActiveSession): { user: AuthenticatedUser; session: SessionView } {
    return { user, session: SessionsService.toView(session) };
  }

  /** For countdown timers: reading it is not activity. */
  @Get('session')
  @SkipActivity()
  session(@CurrentSession() session: ActiveSession): SessionView {
    return SessionsService.toView(session);
  }

  /** "Stay signed in": explicit activity, written at once. */
  @Post('session/refresh')
  @HttpCode(HttpStatus.OK)
  @SkipActivity()
  async refresh(@Req() req: Request, @CurrentSession() session: ActiveSession): Promise<SessionView> {
    return SessionsService.toView((await this.http.recordActivity(req, { force: true })) ?? session);
  }
}
