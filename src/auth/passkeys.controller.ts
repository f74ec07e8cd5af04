import { Body, Controller, HttpCode, HttpStatus, Post, Req, Res } from '@nestjs/common';
import { ApiCookieAuth, ApiTags } from '@nestjs/swagger';
import type { AuthenticationResponseJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import type { Request, Response } from 'express';
import { Public } from '../common/decorators/public.decorator';
import type { PendingSignIn } from '../sessions/auth-state';
import type { AuthenticatedUser } from '../users/authenticated-user';
import { CurrentUser } from '../session-http/current-session.decorator';
import { PasskeyAssertionDto } from './dto/passkey.dto';
import { PasskeySignIn } from './passkey-sign-in.service';
import { CurrentPendingSignIn, SecondStepRoute } from './second-step';
import { SetsSessionCookie } from './secure-transport.guard';

/**
 * Signing in with a passkey: each ceremony is a pair, options with a fresh
 * single-use challenge for navigator.credentials.get(), then its answer.
 */
@ApiTags('auth')
@ApiCookieAuth()
@Controller('api/auth')
export class PasskeysController {
  constructor(private readonly passkeys: PasskeySignIn) {}

  /** Options for a sign-in with a passkey alone: no email, the browser offers this site's passkeys. */
  @Public()
  @Post('passkey/options')
  @HttpCode(HttpStatus.OK)
  aloneOptions(): Promise<PublicKeyCredentialRequestOptionsJSON> {
    return this.passkeys.aloneOptions();
  }

  /** `{ user }` and a session proven by the passkey, when the authenticator verified the person; else 401 AUTH_1013. */
  @Public()
  @Post('passkey')
  @SetsSessionCookie()
  @HttpCode(HttpStatus.OK)
  signInAlone(
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
    @Body() body: PasskeyAssertionDto,
  ): Promise<{ user: AuthenticatedUser }> {
    return this.passkeys.signInAlone(req, res, body.response as AuthenticationResponseJSON);
  }

  /** Options for the second step: the pending account's passkeys (404 RES_3001 when it has none). */
  @SecondStepRoute()
  @Post('login/passkey/options')
  @HttpCode(HttpStatus.OK)
  secondStepOptions(@CurrentPendingSignIn() pending: PendingSignIn): Promise<PublicKeyCredentialRequestOptionsJSON> {
    return this.passkeys.secondStepOptions(pending);
  }

  /** The second step with a passkey; the sign-in completes under a new session id. */
  @SecondStepRoute()
  @Post('login/passkey')
  @SetsSessionCookie()
  @HttpCode(HttpStatus.OK)
  async secondStep(
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
    @CurrentPendingSignIn() pending: PendingSignIn,
    @Body() body: PasskeyAssertionDto,
  ): Promise<{ user: AuthenticatedUser }> {
    return { user: await this.passkeys.completeSecondStep(req, res, pending, body.response as AuthenticationResponseJSON) };
  }

  /** Options for re-authentication with a passkey; its answer goes to POST /api/auth/reauth as `{ passkey }`. */
  @Post('reauth/passkey/options')
  @HttpCode(HttpStatus.OK)
  reauthOptions(@CurrentUser() user: AuthenticatedUser): Promise<PublicKeyCredentialRequestOptionsJSON> {
    return this.passkeys.reauthOptions(user);
  }
}
