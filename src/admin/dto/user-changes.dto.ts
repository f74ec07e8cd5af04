import { IsBoolean, IsEmail, IsIn, IsString, MaxLength } from 'class-validator';
import { MayBeAbsent } from '../../common/validation/may-be-absent.decorator';
import { MAX_EMAIL_LENGTH, MAX_PASSWORD_LENGTH } from '../../config/credential-limits';
import { USER_ROLES, UserRole } from '../../users/user.schema';

const MAX_NAME_LENGTH = 100;

export class CreateUserDto {
  @IsEmail()
  @MaxLength(MAX_EMAIL_LENGTH)
  email: string;

  /** Strength is checked by the password policy (VAL_2001 naming the problem). */
  @IsString()
  @MaxLength(MAX_PASSWORD_LENGTH)
  password: string;

  @MayBeAbsent()
  @IsString()
  @MaxLength(MAX_NAME_LENGTH)
  name?: string;

  @MayBeAbsent()
  @IsIn(USER_ROLES)
  role?: UserRole;
}

export class UpdateUserDto {
  @MayBeAbsent()
  @IsBoolean()
  disabled?: boolean;

  @MayBeAbsent()
  @IsIn(USER_ROLES)
  role?: UserRole;

  @MayBeAbsent()
  @IsString()
  @MaxLength(MAX_NAME_LENGTH)
  name?: string;
}

/** Ending a session from a page: where to come back to (a same-site path). */
export class EndSessionFormDto {
  @MayBeAbsent()
  @IsString()
  @MaxLength(200)
  returnTo?: string;
}

export class RoleFormDto {
  @IsIn(USER_ROLES)
  role: UserRole;
}

/** The emergency sign-out form: its confirmation box must be ticked. */
export class EndAllSessionsFormDto {
  @MayBeAbsent()
  @IsIn(['yes'])
  confirm?: 'yes';
}
