import { IntersectionType, PickType } from '@nestjs/swagger';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';
import { MayBeAbsent } from '../../common/validation/may-be-absent.decorator';
import { MAX_PASSWORD_LENGTH } from '../../config/credential-limits';
import { LoginFormDto } from './login-form.dto';
import { CodeFormDto, MAX_CODE_LENGTH } from './second-factor.dto';

/** The password, or a code from the authenticator app: one of them, not both (BrowserSignIn.reauthenticate). */
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
}

/** The /reauth form: the password, or a code once the account has a factor; empty fields re-show the form with a message. */
export class ReauthFormDto extends IntersectionType(PickType(LoginFormDto, ['password', 'next'] as const), CodeFormDto) {}
