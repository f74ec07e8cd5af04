import { IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { MAX_NEXT_LENGTH } from '../../common/http/safe-redirect';
import { MAX_PASSWORD_LENGTH } from '../../users/credential-limits';

export class ReauthDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(MAX_PASSWORD_LENGTH)
  password: string;
}

/** The /reauth form: an empty password re-shows the form with a message instead of an error page. */
export class ReauthFormDto {
  @IsOptional()
  @IsString()
  @MaxLength(MAX_PASSWORD_LENGTH)
  password?: string;

  @IsOptional()
  @IsString()
  @MaxLength(MAX_NEXT_LENGTH)
  next?: string;
}
