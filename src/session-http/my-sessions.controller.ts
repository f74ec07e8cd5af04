import { Controller, Delete, Get, HttpCode, HttpStatus, Param, Query, Res } from '@nestjs/common';
import { ApiCookieAuth, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ParseSessionIdPipe } from '../common/http/id-params';
import { PagedList, PageQueryDto } from '../common/http/pagination';
import type { AuthenticatedUser } from '../users/authenticated-user';
import type { ActiveSession } from '../sessions/auth-state';
import { CurrentSession, CurrentUser } from './current-session.decorator';
import { MySessionsService } from '../sessions/my-sessions.service';
import type { DeviceSessionView } from '../sessions/session-views';
import { SessionHttpAdapter } from './session-http.adapter';

/** `/api/sessions`: where am I signed in? People see and end their own sessions; another user's id is a 404. */
@ApiTags('sessions')
@ApiCookieAuth()
@Controller('api/sessions')
export class MySessionsController {
  constructor(
    private readonly mySessions: MySessionsService,
    private readonly http: SessionHttpAdapter,
  ) {}

  @Get()
  list(
    @CurrentUser() user: AuthenticatedUser,
    @CurrentSession() session: ActiveSession,
    @Query() query: PageQueryDto,
  ): Promise<PagedList<DeviceSessionView>> {
    return this.mySessions.list(user.id, query, session.id);
  }

  /** Ends one of my sessions; ending the current one signs this browser out. */
  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  async end(
    @Res({ passthrough: true }) res: Response,
    @CurrentUser() user: AuthenticatedUser,
    @CurrentSession() session: ActiveSession,
    @Param('id', ParseSessionIdPipe) id: string,
  ): Promise<void> {
    if ((await this.mySessions.end(user.id, id, session)).wasCurrent) this.http.clearCookie(res);
  }

  /** Ends all my other sessions; this one stays. Needs recent authentication. */
  @Delete()
  @HttpCode(HttpStatus.NO_CONTENT)
  async endOthers(@CurrentUser() user: AuthenticatedUser, @CurrentSession() session: ActiveSession): Promise<void> {
    await this.mySessions.endOthers(user.id, session);
  }
}
