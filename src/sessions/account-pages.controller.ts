import { Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { CsrfService } from '../auth/csrf.service';
import { CurrentUser } from '../common/decorators/current-user.decorator';
import { ParseSessionIdPipe } from '../common/http/id-params';
import { pageLinks, PageQueryDto } from '../common/http/pagination';
import type { AuthenticatedUser } from './auth-state';
import { DevicesService } from './devices.service';
import { SessionsService } from './sessions.service';

const SESSIONS_PAGE = '/account/sessions';

/** "My sessions" as a page, with forms to end one or all others (303 back). */
@ApiExcludeController()
@Controller('account/sessions')
export class AccountPagesController {
  constructor(
    private readonly devices: DevicesService,
    private readonly sessions: SessionsService,
    private readonly csrf: CsrfService,
  ) {}

  @Get()
  async page(@Req() req: Request, @Res() res: Response, @CurrentUser() user: AuthenticatedUser, @Query() query: PageQueryDto) {
    const list = await this.devices.list(req, user, query);
    res.render('account-sessions', {
      title: 'My sessions',
      user,
      list,
      links: pageLinks(SESSIONS_PAGE, { ...query }, list),
      csrfToken: this.csrf.token(req, res),
    });
  }

  @Post('end-others')
  async endOthers(@Req() req: Request, @Res() res: Response, @CurrentUser() user: AuthenticatedUser) {
    await this.devices.endOthers(req, user);
    res.redirect(303, SESSIONS_PAGE);
  }

  @Post(':id/end')
  async end(@Req() req: Request, @Res() res: Response, @CurrentUser() user: AuthenticatedUser, @Param('id', ParseSessionIdPipe) id: string) {
    if (!(await this.devices.end(req, user, id)).wasCurrent) return res.redirect(303, SESSIONS_PAGE);
    this.sessions.clearCookie(res);
    res.redirect(303, '/login?loggedOut=1');
  }
}
