import { PickType } from '@nestjs/swagger';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';
import { MAX_PASSWORD_LENGTH } from '../../config/credential-limits';
import { LoginFormDto } from './login-form.dto';

export class ReauthDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(MAX_PASSWORD_LENGTH)
  password: string;
}

/** The /reauth form: an empty password re-shows the form with a message instead of an error page. */
export class ReauthFormDto extends PickType(LoginFormDto, ['password', 'next'] as const) {}
