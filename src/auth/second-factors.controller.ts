import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Post, Req, Res } from '@nestjs/common';
import { ApiCookieAuth, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ParseFactorIdPipe } from '../common/http/id-params';
import type { FactorView, TotpEnrolment } from '../second-factors/second-factors.service';
import { RequiresRecentAuth } from '../sessions/recent-auth.policy';
import type { PublicKeyCredentialCreationOptionsJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { RegisterPasskeyDto } from './dto/passkey.dto';
import { OneTimeCodeDto, StartTotpDto } from './dto/second-factor.dto';
import { FactorEnrolment, FactorList } from './factor-enrolment.service';
import { CurrentFactorOwner, EnrolmentRoute, FactorOwner } from './second-step';

/**
 * The signed-in person's second factors: list, enrol an authenticator app or
 * a passkey, remove, new recovery codes. Listing and enrolling also serve a sign-in
 * whose role requires a factor it does not have yet.
 */
@ApiTags('second factors')
@ApiCookieAuth()
@Controller('api/auth')
export class SecondFactorsController {
  constructor(private readonly enrolment: FactorEnrolment) {}

  @Get('factors')
  @EnrolmentRoute()
  list(@CurrentFactorOwner() owner: FactorOwner): Promise<FactorList> {
    return this.enrolment.list(owner.user);
  }

  /** Starts an enrolment: the secret and its otpauth:// URI; it counts once a code confirms it. */
  @Post('factors/totp')
  @EnrolmentRoute()
  @RequiresRecentAuth()
  startTotp(@CurrentFactorOwner() owner: FactorOwner, @Body() body: StartTotpDto): Promise<TotpEnrolment> {
    return this.enrolment.startTotp(owner, body.name);
  }

  /**
   * Confirms the enrolment; every other session ends and this one gets a new
   * id (or the sign-in that had to enrol completes). Recovery codes come with
   * a first factor, once.
   */
  @Post('factors/totp/:id/verify')
  @EnrolmentRoute()
  @RequiresRecentAuth()
  @HttpCode(HttpStatus.OK)
  confirmTotp(
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
    @CurrentFactorOwner() owner: FactorOwner,
    @Param('id', ParseFactorIdPipe) id: string,
    @Body() body: OneTimeCodeDto,
  ): Promise<{ factor: FactorView; recoveryCodes: string[] }> {
    return this.enrolment.confirmTotp(req, res, owner, id, body.code);
  }

  /** Options for navigator.credentials.create(): a passkey for this account, with a fresh single-use challenge. */
  @Post('factors/passkey/options')
  @EnrolmentRoute()
  @RequiresRecentAuth()
  @HttpCode(HttpStatus.OK)
  passkeyOptions(@CurrentFactorOwner() owner: FactorOwner): Promise<PublicKeyCredentialCreationOptionsJSON> {
    return this.enrolment.passkeyOptions(owner);
  }

  /**
   * Registers the passkey just created (AUTH_1013 when its answer does not
   * verify); every other session ends and this one gets a new id (or the
   * sign-in that had to enrol completes).
   */
  @Post('factors/passkey')
  @EnrolmentRoute()
  @RequiresRecentAuth()
  registerPasskey(
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
    @CurrentFactorOwner() owner: FactorOwner,
    @Body() body: RegisterPasskeyDto,
  ): Promise<{ factor: FactorView; recoveryCodes: string[] }> {
    return this.enrolment.confirmPasskey(req, res, owner, body.name, body.response as RegistrationResponseJSON);
  }

  /** Removes a factor; every other session ends and this one gets a new id. */
  @Delete('factors/:id')
  @RequiresRecentAuth()
  @HttpCode(HttpStatus.NO_CONTENT)
  async remove(@Req() req: Request, @CurrentFactorOwner() owner: FactorOwner, @Param('id', ParseFactorIdPipe) id: string): Promise<void> {
    await this.enrolment.remove(req, owner, id);
  }

  /** A new set of recovery codes, shown this once; every other session ends and this one gets a new id. */
  @Post('recovery-codes')
  @RequiresRecentAuth()
  @HttpCode(HttpStatus.OK)
  async regenerateRecoveryCodes(@Req() req: Request, @CurrentFactorOwner() owner: FactorOwner): Promise<{ recoveryCodes: string[] }> {
    return { recoveryCodes: await this.enrolment.regenerateRecoveryCodes(req, owner) };
  }
}
