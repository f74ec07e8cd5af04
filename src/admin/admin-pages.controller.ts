import { Body, Controller, Get, Param, Post, Query, Res, UseInterceptors } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { Roles } from '../auth/roles.decorator';
import { ErrorCode } from '../common/errors/error-codes';
import { ExpectedError, FieldProblems, showFormError } from '../common/errors/form-errors';
import { ParseSessionIdPipe, ParseUserIdPipe } from '../common/http/id-params';
import { PageLocalsInterceptor } from '../common/http/page-locals.interceptor';
import { pageLinks, PageQueryDto } from '../common/http/pagination';
import { countOf } from '../common/http/plural';
import { safeNextPath } from '../common/http/safe-redirect';
import type { ActiveSession } from '../sessions/auth-state';
import { CurrentSession, CurrentUser } from '../session-http/current-session.decorator';
import { SESSION_EVENT_TYPES } from '../session-events/session-event.schema';
import { SessionHttpAdapter } from '../session-http/session-http.adapter';
import type { AuthenticatedUser } from '../users/authenticated-user';
import { USER_ROLES } from '../users/user.schema';
import { AdminService } from './admin.service';
import { AdminTimeFormat } from './admin-time';
import { AnalyticsPageService } from './analytics-page.service';
import { AdminEventsQueryDto, AdminSessionsQueryDto, AdminUsersQueryDto, AnalyticsQueryDto } from './dto/admin-queries.dto';
import { CreateUserDto, EndAllSessionsFormDto, EndSessionFormDto, RoleFormDto } from './dto/user-changes.dto';

/** What the create-user form shows itself, above the form it fills in again; any other error is the error page's. */
const CREATE_USER_ERRORS = {
  invalid: { code: ErrorCode.INVALID_INPUT, error: (fields) => `Could not create the user: ${problemList(fields)}.` },
} satisfies Record<string, ExpectedError>;

/** Each field with its problem, as in `email is already registered`. */
function problemList(fields: FieldProblems): string {
  return Object.entries(fields)
    .map(([field, problem]) => `${field} ${problem}`)
    .join('; ');
}

/** The admin console: server-rendered pages whose forms post and come back with a 303. */
@ApiExcludeController()
@UseInterceptors(PageLocalsInterceptor)
@Roles('admin')
@Controller('admin')
export class AdminPagesController {
  constructor(
    private readonly admin: AdminService,
    private readonly analyticsPages: AnalyticsPageService,
    private readonly http: SessionHttpAdapter,
    private readonly time: AdminTimeFormat,
  ) {}

  @Get()
  async overview(@Res() res: Response) {
    res.render('admin/overview', { title: 'Admin', adminTime: this.time, overview: await this.admin.overview() });
  }

  @Get('users')
  async users(@Res() res: Response, @Query() query: AdminUsersQueryDto) {
    await this.renderUsers(res, query);
  }

  @Post('users')
  async createUser(
    @Res() res: Response,
    @CurrentUser() actor: AuthenticatedUser,
    @CurrentSession() session: ActiveSession,
    @Body() form: CreateUserDto,
  ) {
    try {
      await this.redirectAfter(res, this.admin.createUser(actor, form, session), (created) => `/admin/users/${created.id}`);
    } catch (error) {
      await this.renderUsers(res, new AdminUsersQueryDto(), {
        ...showFormError(res, error, CREATE_USER_ERRORS),
        form: { email: form.email, name: form.name, role: form.role },
      });
    }
  }

  @Get('users/:id')
  async user(
    @Res() res: Response,
    @CurrentSession() session: ActiveSession,
    @Param('id', ParseUserIdPipe) id: string,
    @Query() query: PageQueryDto,
  ) {
    const subject = await this.admin.getUser(id);
    const list = await this.admin.listSessions(Object.assign(new AdminSessionsQueryDto(), query, { userId: id }), session.id);
    res.render('admin/user', {
      title: subject.email,
      adminTime: this.time,
      subject,
      factors: await this.admin.secondFactorsOf(id),
      roles: USER_ROLES,
      list,
      links: pageLinks(`/admin/users/${id}`, { ...query }, list),
    });
  }

  @Post('users/:id/disable')
  disable(
    @Res() res: Response,
    @CurrentUser() actor: AuthenticatedUser,
    @CurrentSession() session: ActiveSession,
    @Param('id', ParseUserIdPipe) id: string,
  ) {
    return this.redirectAfter(res, this.admin.updateUser(actor, session, id, { disabled: true }), `/admin/users/${id}`);
  }

  @Post('users/:id/enable')
  enable(
    @Res() res: Response,
    @CurrentUser() actor: AuthenticatedUser,
    @CurrentSession() session: ActiveSession,
    @Param('id', ParseUserIdPipe) id: string,
  ) {
    return this.redirectAfter(res, this.admin.updateUser(actor, session, id, { disabled: false }), `/admin/users/${id}`);
  }

  @Post('users/:id/role')
  role(
    @Res() res: Response,
    @CurrentUser() actor: AuthenticatedUser,
    @CurrentSession() session: ActiveSession,
    @Param('id', ParseUserIdPipe) id: string,
    @Body() form: RoleFormDto,
  ) {
    return this.redirectAfter(res, this.admin.updateUser(actor, session, id, { role: form.role }), `/admin/users/${id}`);
  }

  @Post('users/:id/factors/reset')
  resetFactors(
    @Res() res: Response,
    @CurrentUser() actor: AuthenticatedUser,
    @CurrentSession() session: ActiveSession,
    @Param('id', ParseUserIdPipe) id: string,
  ) {
    return this.redirectAfter(res, this.admin.resetFactors(actor, session, id), `/admin/users/${id}`);
  }

  @Post('users/:id/sessions/end')
  endUserSessions(
    @Res() res: Response,
    @CurrentUser() actor: AuthenticatedUser,
    @CurrentSession() session: ActiveSession,
    @Param('id', ParseUserIdPipe) id: string,
  ) {
    return this.redirectAfter(res, this.admin.endUserSessions(actor, session, id), `/admin/users/${id}`);
  }

  @Get('sessions')
  async sessions(@Res() res: Response, @CurrentSession() session: ActiveSession, @Query() query: AdminSessionsQueryDto) {
    const list = await this.admin.listSessions(query, session.id);
    res.render('admin/sessions', {
      title: 'All sessions',
      adminTime: this.time,
      notice: query.ended === undefined ? undefined : `Signed out ${countOf(query.ended, 'other session')}. Yours goes on.`,
      ...(query.endAll ? { error: 'Tick the box to confirm that every other session should end.', code: ErrorCode.INVALID_INPUT } : {}),
      list,
      query,
      links: pageLinks('/admin/sessions', { ...query }, list),
    });
  }

  /** Ends any session, then back to where the admin was (a same-site page only). */
  @Post('sessions/:id/end')
  endSession(
    @Res() res: Response,
    @CurrentUser() actor: AuthenticatedUser,
    @CurrentSession() session: ActiveSession,
    @Param('id', ParseSessionIdPipe) id: string,
    @Body() form: EndSessionFormDto,
  ) {
    return this.redirectAfter(res, this.admin.endSession(actor, session, id), safeNextPath(form.returnTo, '/admin/sessions'));
  }

  /** Emergency sign-out, after the form's confirmation box: everyone but the caller. */
  @Post('sessions/end-all')
  endAllSessions(
    @Res() res: Response,
    @CurrentUser() actor: AuthenticatedUser,
    @CurrentSession() session: ActiveSession,
    @Body() form: EndAllSessionsFormDto,
  ) {
    if (form.confirm !== 'yes') return res.redirect(303, '/admin/sessions?endAll=unconfirmed');
    return this.redirectAfter(res, this.admin.endAllSessions(actor, session), (ended) => `/admin/sessions?ended=${ended}`);
  }

  @Get('analytics')
  async analytics(@Res() res: Response, @Query() query: AnalyticsQueryDto) {
    res.render('admin/analytics', { title: 'Session analytics', ...(await this.analyticsPages.page(query.range)) });
  }

  @Get('events')
  async events(@Res() res: Response, @Query() query: AdminEventsQueryDto) {
    const list = await this.admin.listEvents(query);
    res.render('admin/events', {
      title: 'Event log',
      adminTime: this.time,
      list,
      query,
      types: SESSION_EVENT_TYPES,
      links: pageLinks('/admin/events', { ...query }, list),
    });
  }

  /**
   * A console form's answer once its action is done: 303 to the page `to`
   * names, or to the sign-in page, signed out as by the sign-out button, when
   * the action ended the admin's own session. The action's errors go on to
   * the exception filter: an error page, or /reauth and back.
   */
  private async redirectAfter<T>(res: Response, action: Promise<T>, to: string | ((result: T) => string)): Promise<void> {
    const result = await action;
    if (endedOwnSession(result)) {
      this.http.clearCookie(res);
      return res.redirect(303, '/login?loggedOut=1');
    }
    res.redirect(303, typeof to === 'string' ? to : to(result));
  }

  private async renderUsers(res: Response, query: AdminUsersQueryDto, extra: Record<string, unknown> = {}) {
    const list = await this.admin.listUsers(query);
    res.render('admin/users', {
      title: 'Users',
      adminTime: this.time,
      list,
      query,
      roles: USER_ROLES,
      links: pageLinks('/admin/users', { ...query }, list),
      ...extra,
    });
  }
}

/** An action's result that says it ended the caller's own session (ending one session, or all of a user's). */
function endedOwnSession(result: unknown): boolean {
  return typeof result === 'object' && result !== null && 'endedOwn' in result && result.endedOwn === true;
}
