import { IntersectionType, PickType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsNotEmpty, IsObject, IsString, MaxLength, ValidateNested } from 'class-validator';
import { MayBeAbsent } from '../../common/validation/may-be-absent.decorator';
import { MAX_PASSWORD_LENGTH } from '../../config/credential-limits';
import { LoginFormDto } from './login-form.dto';
import { AuthenticationCredentialDto } from './passkey.dto';
import { CodeFormDto, MAX_CODE_LENGTH } from './second-factor.dto';

/** The password, a code from the authenticator app, or a passkey's answer: one of them (BrowserSignIn.reauthenticate). */
export class ReauthDto {
  @MayBeAbsent()
  @IsString()
  @IsNotEmpty()
  @MaxLength(MAX_PASSWORD_LENGTH)
  password?: string;

  @MayBeAbsent()
  @IsString()
  @IsNotEmpty()
  @MaxLength(MAX_CODE_LENGTH)
  code?: string;

  /** The answer to POST /api/auth/reauth/passkey/options. */
  @MayBeAbsent()
  @IsObject()
  @ValidateNested()
  @Type(() => AuthenticationCredentialDto)
  passkey?: AuthenticationCredentialDto;
}

/** The /reauth form: the password, or a code once the account has a factor; empty fields re-show the form with a message. */
export class ReauthFormDto extends IntersectionType(PickType(LoginFormDto, ['password', 'next'] as const), CodeFormDto) {}
