import { IsOptional, IsString, MaxLength } from 'class-validator';
import { MAX_NEXT_LENGTH } from '../../common/http/safe-redirect';
import { MAX_EMAIL_LENGTH, MAX_PASSWORD_LENGTH } from '../../users/credential-limits';

/** The sign-in form: empty fields re-show the form with a message instead of an error page. */
export class LoginFormDto {
  @IsOptional()
  @IsString()
  @MaxLength(MAX_EMAIL_LENGTH)
  email?: string;

  @IsOptional()
  @IsString()
  @MaxLength(MAX_PASSWORD_LENGTH)
  password?: string;

  @IsOptional()
  @IsString()
  @MaxLength(MAX_NEXT_LENGTH)
  next?: string;
}
