import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Post, Req } from '@nestjs/common';
import { ApiCookieAuth, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { ParseFactorIdPipe } from '../common/http/id-params';
import type { FactorView, TotpEnrolment } from '../second-factors/second-factors.service';
import { CurrentSession, CurrentUser } from '../session-http/current-session.decorator';
import type { ActiveSession } from '../sessions/auth-state';
import { RequiresRecentAuth } from '../sessions/recent-auth.policy';
import type { AuthenticatedUser } from '../users/authenticated-user';
import type { PublicKeyCredentialCreationOptionsJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { RegisterPasskeyDto } from './dto/passkey.dto';
import { OneTimeCodeDto, StartTotpDto } from './dto/second-factor.dto';
import { FactorEnrolment, FactorList } from './factor-enrolment.service';

/** The signed-in person's second factors: list, enrol an authenticator app or a passkey, remove, new recovery codes. */
@ApiTags('second factors')
@ApiCookieAuth()
@Controller('api/auth')
export class SecondFactorsController {
  constructor(private readonly enrolment: FactorEnrolment) {}

  @Get('factors')
  list(@CurrentUser() user: AuthenticatedUser): Promise<FactorList> {
    return this.enrolment.list(user);
  }

  /** Starts an enrolment: the secret and its otpauth:// URI; it counts once a code confirms it. */
  @Post('factors/totp')
  @RequiresRecentAuth()
  startTotp(
    @CurrentUser() user: AuthenticatedUser,
    @CurrentSession() session: ActiveSession,
    @Body() body: StartTotpDto,
  ): Promise<TotpEnrolment> {
    return this.enrolment.startTotp(user, session, body.name);
  }

  /** Confirms the enrolment; every other session ends and this one gets a new id. Recovery codes come with a first factor, once. */
  @Post('factors/totp/:id/verify')
  @RequiresRecentAuth()
  @HttpCode(HttpStatus.OK)
  confirmTotp(
    @Req() req: Request,
    @CurrentUser() user: AuthenticatedUser,
    @CurrentSession() session: ActiveSession,
    @Param('id', ParseFactorIdPipe) id: string,
    @Body() body: OneTimeCodeDto,
  ): Promise<{ factor: FactorView; recoveryCodes: string[] }> {
    return this.enrolment.confirmTotp(req, user, session, id, body.code);
  }

  /** Options for navigator.credentials.create(): a passkey for this account, with a fresh single-use challenge. */
  @Post('factors/passkey/options')
  @RequiresRecentAuth()
  @HttpCode(HttpStatus.OK)
  passkeyOptions(
    @CurrentUser() user: AuthenticatedUser,
    @CurrentSession() session: ActiveSession,
  ): Promise<PublicKeyCredentialCreationOptionsJSON> {
    return this.enrolment.passkeyOptions(user, session);
  }

  /** Registers the passkey just created (AUTH_1013 when its answer does not verify); every other session ends and this one gets a new id. */
  @Post('factors/passkey')
  @RequiresRecentAuth()
  registerPasskey(
    @Req() req: Request,
    @CurrentUser() user: AuthenticatedUser,
    @CurrentSession() session: ActiveSession,
    @Body() body: RegisterPasskeyDto,
  ): Promise<{ factor: FactorView; recoveryCodes: string[] }> {
    return this.enrolment.confirmPasskey(req, user, session, body.name, body.response as RegistrationResponseJSON);
  }

  /** Removes a factor; every other session ends and this one gets a new id. */
  @Delete('factors/:id')
  @RequiresRecentAuth()
  @HttpCode(HttpStatus.NO_CONTENT)
  async remove(
    @Req() req: Request,
    @CurrentUser() user: AuthenticatedUser,
    @CurrentSession() session: ActiveSession,
    @Param('id', ParseFactorIdPipe) id: string,
  ): Promise<void> {
    await this.enrolment.remove(req, user, session, id);
  }

  /** A new set of recovery codes, shown this once; every other session ends and this one gets a new id. */
  @Post('recovery-codes')
  @RequiresRecentAuth()
  @HttpCode(HttpStatus.OK)
  async regenerateRecoveryCodes(
    @Req() req: Request,
    @CurrentUser() user: AuthenticatedUser,
    @CurrentSession() session: ActiveSession,
  ): Promise<{ recoveryCodes: string[] }> {
    return { recoveryCodes: await this.enrolment.regenerateRecoveryCodes(req, user, session) };
  }
}
