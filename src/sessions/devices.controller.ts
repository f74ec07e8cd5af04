import { Controller, Delete, Get, HttpCode, HttpStatus, Param, Query, Req, Res } from '@nestjs/common';
import { ApiCookieAuth, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { CurrentUser } from '../common/decorators/current-user.decorator';
import { ParseSessionIdPipe } from '../common/http/id-params';
import { PagedList, PageQueryDto } from '../common/http/pagination';
import type { AuthenticatedUser } from './auth-state';
import { DevicesService } from './devices.service';
import type { DeviceSessionView } from './session-views';
import { SessionsService } from './sessions.service';

/** Where am I signed in? People see and end their own sessions; another user's id is a 404. */
@ApiTags('sessions')
@ApiCookieAuth()
@Controller('api/sessions')
export class DevicesController {
  constructor(
    private readonly devices: DevicesService,
    private readonly sessions: SessionsService,
  ) {}

  @Get()
  list(@Req() req: Request, @CurrentUser() user: AuthenticatedUser, @Query() query: PageQueryDto): Promise<PagedList<DeviceSessionView>> {
    return this.devices.list(req, user, query);
  }

  /** Ends one of my sessions; ending the current one signs this browser out. */
  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  async end(
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
    @CurrentUser() user: AuthenticatedUser,
    @Param('id', ParseSessionIdPipe) id: string,
  ): Promise<void> {
    if ((await this.devices.end(req, user, id)).wasCurrent) this.sessions.clearCookie(res);
  }

  /** Ends all my other sessions; this one stays. */
  @Delete()
  @HttpCode(HttpStatus.NO_CONTENT)
  async endOthers(@Req() req: Request, @CurrentUser() user: AuthenticatedUser): Promise<void> {
    await this.devices.endOthers(req, user);
  }
}
