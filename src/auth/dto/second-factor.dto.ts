import { IsIn, IsNotEmpty, IsString, MaxLength } from 'class-validator';
import { MAX_NEXT_LENGTH } from '../../common/http/safe-redirect';
import { MayBeAbsent } from '../../common/validation/may-be-absent.decorator';

/** Longer than any code people type (a recovery code with spaces and dashes): more is not a code. */
export const MAX_CODE_LENGTH = 32;
const MAX_FACTOR_NAME_LENGTH = 64;

/** A one-time code: six digits from an authenticator app, or a recovery code. */
export class OneTimeCodeDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(MAX_CODE_LENGTH)
  code: string;
}

export class StartTotpDto {
  /** What the account's owner calls it (`Phone`); a default name when absent. */
  @MayBeAbsent()
  @IsString()
  @IsNotEmpty()
  @MaxLength(MAX_FACTOR_NAME_LENGTH)
  name?: string;
}

/** A form with a code: an empty one re-shows the form with a message instead of an error page. */
export class CodeFormDto {
  @MayBeAbsent()
  @IsString()
  @MaxLength(MAX_CODE_LENGTH)
  code?: string;
}

/** The second-step form: an empty code re-shows the form with a message instead of an error page. */
export class SecondStepFormDto {
  @IsIn(['totp', 'recovery'])
  method: 'totp' | 'recovery';

  @MayBeAbsent()
  @IsString()
  @MaxLength(MAX_CODE_LENGTH)
  code?: string;

  @MayBeAbsent()
  @IsString()
  @MaxLength(MAX_NEXT_LENGTH)
  next?: string;
}
