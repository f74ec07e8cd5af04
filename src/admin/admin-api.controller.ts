import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Patch, Post, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ApiCookieAuth, ApiTags } from '@nestjs/swagger';
import { sendClearSiteData } from '../auth/clear-session';
import { Roles } from '../auth/roles.decorator';
import { ParseSessionIdPipe, ParseUserIdPipe } from '../common/http/id-params';
import type { PagedList } from '../common/http/pagination';
import type { ActiveSession } from '../sessions/auth-state';
import { CurrentSession, CurrentUser } from '../session-http/current-session.decorator';
import type { AdminSessionView } from '../sessions/session-views';
import { SessionHttpAdapter } from '../session-http/session-http.adapter';
import type { AuthenticatedUser } from '../users/authenticated-user';
import { AdminService } from './admin.service';
import { analyticsCsv } from './analytics-csv';
import { AnalyticsReport, AnalyticsService } from './analytics.service';
import type { AdminUserView, EventView } from './admin-views';
import { AdminEventsQueryDto, AdminSessionsQueryDto, AdminUsersQueryDto, AnalyticsQueryDto } from './dto/admin-queries.dto';
import { CreateUserDto, UpdateUserDto } from './dto/user-changes.dto';

@ApiTags('admin')
@ApiCookieAuth()
@Roles('admin')
@Controller('api/admin')
export class AdminApiController {
  constructor(
    private readonly admin: AdminService,
    private readonly analyticsService: AnalyticsService,
    private readonly http: SessionHttpAdapter,
  ) {}

  @Get('users')
  listUsers(@Query() query: AdminUsersQueryDto): Promise<PagedList<AdminUserView>> {
    return this.admin.listUsers(query);
  }

  /** Creating an admin needs recent authentication (AUTH_1009). */
  @Post('users')
  async createUser(
    @CurrentUser() actor: AuthenticatedUser,
    @CurrentSession() session: ActiveSession,
    @Body() body: CreateUserDto,
  ): Promise<{ user: AdminUserView }> {
    return { user: await this.admin.createUser(actor, body, session) };
  }

  @Patch('users/:id')
  /** A role change or (dis)abling needs recent authentication (AUTH_1009). */
  async updateUser(
    @CurrentUser() actor: AuthenticatedUser,
    @CurrentSession() session: ActiveSession,
    @Param('id', ParseUserIdPipe) id: string,
    @Body() body: UpdateUserDto,
  ): Promise<{ user: AdminUserView }> {
    return { user: await this.admin.updateUser(actor, session, id, body) };
  }

  @Get('sessions')
  listSessions(@CurrentSession() session: ActiveSession, @Query() query: AdminSessionsQueryDto): Promise<PagedList<AdminSessionView>> {
    return this.admin.listSessions(query, session.id);
  }

  /** Emergency sign-out: every session but the caller's. Needs recent authentication. */
  @Delete('sessions')
  @HttpCode(HttpStatus.OK)
  async endAllSessions(@CurrentUser() actor: AuthenticatedUser, @CurrentSession() session: ActiveSession): Promise<{ ended: number }> {
    return { ended: await this.admin.endAllSessions(actor, session) };
  }

  /** 204; ending one's own session clears its cookie, as signing out does. */
  @Delete('sessions/:id')
  @HttpCode(HttpStatus.NO_CONTENT)
  async endSession(
    @Res({ passthrough: true }) res: Response,
    @CurrentUser() actor: AuthenticatedUser,
    @CurrentSession() session: ActiveSession,
    @Param('id', ParseSessionIdPipe) id: string,
  ): Promise<void> {
    if ((await this.admin.endSession(actor, session, id)).endedOwn) this.signedOut(res);
  }

  @Delete('users/:id/sessions')
  @HttpCode(HttpStatus.NO_CONTENT)
  async endUserSessions(
    @Res({ passthrough: true }) res: Response,
    @CurrentUser() actor: AuthenticatedUser,
    @CurrentSession() session: ActiveSession,
    @Param('id', ParseUserIdPipe) id: string,
  ): Promise<void> {
    if ((await this.admin.endUserSessions(actor, session, id)).endedOwn) this.signedOut(res);
  }

  /** Removes the user's second factors and recovery codes (needs recent authentication); all their sessions end. */
  @Delete('users/:id/factors')
  @HttpCode(HttpStatus.OK)
  async resetFactors(
    @CurrentUser() actor: AuthenticatedUser,
    @CurrentSession() session: ActiveSession,
    @Param('id', ParseUserIdPipe) id: string,
  ): Promise<{ removed: number }> {
    return { removed: await this.admin.resetFactors(actor, session, id) };
  }

  private signedOut(res: Response): void {
    this.http.clearCookie(res);
    sendClearSiteData(res);
  }

  /** Sign-ins, endings and active sessions over 24 h (hourly) or 7/30 days (daily), with totals. */
  @Get('analytics')
  analytics(@Query() query: AnalyticsQueryDto): Promise<AnalyticsReport> {
    return this.analyticsService.report(query.range);
  }

  /** The same series as CSV. */
  @Get('analytics.csv')
  async analyticsCsv(@Query() query: AnalyticsQueryDto, @Res({ passthrough: true }) res: Response): Promise<string> {
    res.type('text/csv').attachment(`session-analytics-${query.range}.csv`);
    return analyticsCsv(await this.analyticsService.report(query.range));
  }

  @Get('events')
  listEvents(@Query() query: AdminEventsQueryDto): Promise<PagedList<EventView>> {
    return this.admin.listEvents(query);
  }
}
