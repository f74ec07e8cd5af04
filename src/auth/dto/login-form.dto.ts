import { IsString, MaxLength } from 'class-validator';
import { MayBeAbsent } from '../../common/validation/may-be-absent.decorator';
import { MAX_NEXT_LENGTH } from '../../common/http/safe-redirect';
import { MAX_EMAIL_LENGTH, MAX_PASSWORD_LENGTH } from '../../config/credential-limits';

/** The sign-in form: empty fields re-show the form with a message instead of an error page. */
export class LoginFormDto {
  @MayBeAbsent()
  @IsString()
  @MaxLength(MAX_EMAIL_LENGTH)
  email?: string;

  @MayBeAbsent()
  @IsString()
  @MaxLength(MAX_PASSWORD_LENGTH)
  password?: string;

  @MayBeAbsent()
  @IsString()
  @MaxLength(MAX_NEXT_LENGTH)
  next?: string;
}
