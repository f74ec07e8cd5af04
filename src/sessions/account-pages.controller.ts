import { Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import type { Request, Response } from 'express';
import { CsrfService } from '../auth/csrf.service';
import { CurrentUser } from '../common/decorators/current-user.decorator';
import { ParseSessionIdPipe } from '../common/http/id-params';
import { pageLinks, PageQueryDto } from '../common/http/pagination';
import type { AuthenticatedUser } from './auth-state';
import { DevicesService } from './devices.service';
import { SessionsService } from './sessions.service';

const SESSIONS_PAGE = '/account/sessions';

/** Messages for `?password=` after the password form (see AuthPagesController). */
const PASSWORD_MESSAGES: Record<string, { notice?: string; error?: string; code?: string }> = {
  changed: { notice: 'Your password has been changed. Your other sessions have been signed out.' },
  wrong: { error: 'That is not your current password.', code: 'AUTH_1001' },
  weak: { error: 'Choose a new password of at least 12 characters that does not contain your email.', code: 'VAL_2001' },
  locked: { error: 'Too many failed attempts. Try again later.', code: 'AUTH_1006' },
};

class AccountPageQueryDto extends PageQueryDto {
  @IsOptional()
  @IsIn(Object.keys(PASSWORD_MESSAGES))
  password?: string;
}

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
  async page(@Req() req: Request, @Res() res: Response, @CurrentUser() user: AuthenticatedUser, @Query() query: AccountPageQueryDto) {
    const list = await this.devices.list(req, user, query);
    res.render('account-sessions', {
      ...(query.password ? PASSWORD_MESSAGES[query.password] : {}),
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
