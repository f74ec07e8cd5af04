import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post, Query, Req, Res, UseInterceptors } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ApiExcludeController } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { MayBeAbsent } from '../common/validation/may-be-absent.decorator';
import type { Request, Response } from 'express';
import { BrowserSignIn } from '../auth/browser-sign-in.service';
import { ChangePasswordDto } from '../auth/dto/change-password.dto';
import { CodeFormDto } from '../auth/dto/second-factor.dto';
import { FactorEnrolment, TotpEnrolmentPage } from '../auth/factor-enrolment.service';
import { CurrentFactorOwner, EnrolmentRoute, FactorOwner, SECURITY_PAGE } from '../auth/second-step';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-codes';
import { ParseFactorIdPipe } from '../common/http/id-params';
import { RequiresRecentAuth } from '../sessions/recent-auth.policy';
import { PASSKEY_NAME_MAX_LENGTH } from '../second-factors/second-factor.constants';
import { formErrorOf, showFormError } from '../common/errors/form-errors';
import { ParseSessionIdPipe } from '../common/http/id-params';
import type { AppConfiguration } from '../config/configuration';
import { PageLocalsInterceptor } from '../common/http/page-locals.interceptor';
import { pageLinks, PageQueryDto } from '../common/http/pagination';
import type { ActiveSession } from '../sessions/auth-state';
import { CurrentSession, CurrentUser } from '../session-http/current-session.decorator';
import { MySessionsService } from '../sessions/my-sessions.service';
import { SessionEventQueries } from '../session-events/session-event-queries.service';
import { SessionHttpAdapter } from '../session-http/session-http.adapter';
import type { AuthenticatedUser } from '../users/authenticated-user';
import { MIN_PASSWORD_LENGTH } from '../config/credential-limits';
import {
  CODE_ERRORS,
  PASSWORD_ERRORS,
  PASSWORD_OUTCOMES,
  PasswordOutcome,
  REMOVE_FACTOR_ERRORS,
  SECURITY_NOTICES,
  SecurityNotice,
} from './account-messages';

const SESSIONS_PAGE = '/account/sessions';

class AccountPageQueryDto extends PageQueryDto {
  @MayBeAbsent()
  @IsIn(Object.keys(PASSWORD_OUTCOMES))
  password?: PasswordOutcome;
}

class SecurityPageQueryDto {
  @MayBeAbsent()
  @IsIn(Object.keys(SECURITY_NOTICES))
  done?: SecurityNotice;
}

/** What the security page shows besides the account's factors. */
interface SecurityView {
  notice?: string;
  error?: string;
  code?: string;
  enrolment?: Partial<TotpEnrolmentPage> & { id: string };
  recoveryCodes?: string[];
}

/** The signed-in person's own pages: the dashboard, where they are signed in, their password. */
@ApiExcludeController()
@UseInterceptors(PageLocalsInterceptor)
@Controller()
export class AccountPagesController {
  private readonly maxSessionsPerUser: number;

  constructor(
    private readonly signIn: BrowserSignIn,
    private readonly mySessions: MySessionsService,
    private readonly http: SessionHttpAdapter,
    private readonly events: SessionEventQueries,
    private readonly enrolment: FactorEnrolment,
    config: ConfigService<AppConfiguration, true>,
  ) {
    this.maxSessionsPerUser = config.get('session', { infer: true }).maxPerUser;
  }

  /** Who is signed in and the session's deadlines; also the last sign-in from a new browser, and sessions a sign-in ended. */
  @Get('dashboard')
  async dashboard(@Res() res: Response, @CurrentUser() user: AuthenticatedUser, @CurrentSession() session: ActiveSession) {
    const newDevice = await this.events.latestNewDevice(user.id);
    res.render('dashboard', {
      title: 'Dashboard',
      session,
      maxSessions: this.maxSessionsPerUser,
      newDevice: newDevice && { device: newDevice.reason, at: newDevice.at, ip: newDevice.ip },
    });
  }

  @Get(SESSIONS_PAGE)
  async sessionsPage(
    @Res() res: Response,
    @CurrentUser() user: AuthenticatedUser,
    @CurrentSession() session: ActiveSession,
    @Query() query: AccountPageQueryDto,
  ) {
    const list = await this.mySessions.list(user.id, query, session.id);
    res.render('account-sessions', {
      ...(query.password ? PASSWORD_OUTCOMES[query.password] : {}),
      title: 'My sessions',
      list,
      minPasswordLength: MIN_PASSWORD_LENGTH,
      links: pageLinks(SESSIONS_PAGE, { ...query }, list),
    });
  }

  @Post(`${SESSIONS_PAGE}/end-others`)
  async endOthers(@Res() res: Response, @CurrentUser() user: AuthenticatedUser, @CurrentSession() session: ActiveSession) {
    await this.mySessions.endOthers(user.id, session);
    res.redirect(303, SESSIONS_PAGE);
  }

  @Post(`${SESSIONS_PAGE}/:id/end`)
  async end(
    @Res() res: Response,
    @CurrentUser() user: AuthenticatedUser,
    @CurrentSession() session: ActiveSession,
    @Param('id', ParseSessionIdPipe) id: string,
  ) {
    if (!(await this.mySessions.end(user.id, id, session)).wasCurrent) return res.redirect(303, SESSIONS_PAGE);
    this.http.clearCookie(res);
    res.redirect(303, '/login?loggedOut=1');
  }

  /** Second factors: the authenticator app, recovery codes; also where a sign-in whose role requires a factor sets one up. */
  @Get(SECURITY_PAGE)
  @EnrolmentRoute()
  async securityPage(@Res() res: Response, @CurrentFactorOwner() owner: FactorOwner, @Query() query: SecurityPageQueryDto) {
    await this.renderSecurity(res, owner, query.done ? { notice: SECURITY_NOTICES[query.done] } : {});
  }

  /** Starts an enrolment: the QR code and the key, shown on this answer only. */
  @Post(`${SECURITY_PAGE}/totp`)
  @EnrolmentRoute()
  @HttpCode(HttpStatus.OK)
  @RequiresRecentAuth()
  async startTotp(@Res() res: Response, @CurrentFactorOwner() owner: FactorOwner) {
    await this.renderSecurity(res, owner, { enrolment: await this.enrolment.startTotpWithQrCode(owner) });
  }

  /** Confirms the enrolment with a code; a first factor's recovery codes are shown on this answer only. */
  @Post(`${SECURITY_PAGE}/totp/:id/verify`)
  @EnrolmentRoute()
  @HttpCode(HttpStatus.OK)
  @RequiresRecentAuth()
  async confirmTotp(
    @Req() req: Request,
    @Res() res: Response,
    @CurrentFactorOwner() owner: FactorOwner,
    @Param('id', ParseFactorIdPipe) id: string,
    @Body() form: CodeFormDto,
  ) {
    let recoveryCodes: string[];
    try {
      if (!form.code) throw new AppException(ErrorCode.INVALID_CODE);
      ({ recoveryCodes } = await this.enrolment.confirmTotp(req, res, owner, id, form.code));
    } catch (error) {
      const shown = showFormError(res, error, CODE_ERRORS);
      return this.renderSecurity(res, owner, { ...shown, ...(shown.code === ErrorCode.NOT_FOUND ? {} : { enrolment: { id } }) });
    }
    // Signed in now, also when this enrolment completed the sign-in: the page shows the signed-in header.
    res.locals.user = owner.user;
    await this.renderSecurity(res, { user: owner.user, amr: owner.amr }, { notice: SECURITY_NOTICES.enrolled, recoveryCodes });
  }

  @Post(`${SECURITY_PAGE}/factors/:id/remove`)
  @RequiresRecentAuth()
  async removeFactor(
    @Req() req: Request,
    @Res() res: Response,
    @CurrentFactorOwner() owner: FactorOwner,
    @Param('id', ParseFactorIdPipe) id: string,
  ) {
    try {
      await this.enrolment.remove(req, owner, id);
    } catch (error) {
      return this.renderSecurity(res, owner, showFormError(res, error, REMOVE_FACTOR_ERRORS));
    }
    res.redirect(303, `${SECURITY_PAGE}?done=removed`);
  }

  /** New recovery codes, shown on this answer only. */
  @Post(`${SECURITY_PAGE}/recovery-codes`)
  @HttpCode(HttpStatus.OK)
  @RequiresRecentAuth()
  async regenerateRecoveryCodes(@Req() req: Request, @Res() res: Response, @CurrentFactorOwner() owner: FactorOwner) {
    const recoveryCodes = await this.enrolment.regenerateRecoveryCodes(req, owner);
    await this.renderSecurity(res, owner, { notice: SECURITY_NOTICES.regenerated, recoveryCodes });
  }

  private async renderSecurity(res: Response, owner: FactorOwner, view: SecurityView): Promise<void> {
    const { items, recoveryCodesLeft } = await this.enrolment.list(owner.user);
    res.render('account-security', {
      title: 'Sign-in security',
      factors: items,
      recoveryCodesLeft,
      enrolRequired: owner.pending !== undefined,
      passkeyNameMaxLength: PASSKEY_NAME_MAX_LENGTH,
      ...view,
    });
  }

  /** The password form on the sessions page; the outcome comes back as `?password=`. */
  @Post('account/password')
  async changePassword(@Req() req: Request, @Res() res: Response, @CurrentUser() user: AuthenticatedUser, @Body() form: ChangePasswordDto) {
    let outcome: PasswordOutcome = 'changed';
    try {
      if (!(await this.signIn.changePassword(req, user, form.currentPassword, form.newPassword))) {
        this.http.clearCookie(res);
        return res.redirect(303, '/login?loggedOut=password');
      }
    } catch (error) {
      outcome = formErrorOf(error, PASSWORD_ERRORS).name;
    }
    res.redirect(303, `${SESSIONS_PAGE}?password=${outcome}`);
  }
}
