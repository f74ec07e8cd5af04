import { plainToInstance } from 'class-transformer';
import { IsEmail, IsIn, IsNotEmpty, IsString, MaxLength, ValidateNested, validateSync } from 'class-validator';
import { MayBeAbsent } from './may-be-absent.decorator';
import { fieldProblems } from './field-problems';

class Inner {
  @IsString()
  value!: string;
}

class Input {
  @IsString()
  @IsNotEmpty()
  @MaxLength(8)
  password!: string;

  @IsEmail()
  @MaxLength(20)
  email!: string;

  @MayBeAbsent()
  @IsIn(['user', 'admin'])
  role?: string;

  @MayBeAbsent()
  @ValidateNested()
  inner?: Inner;
}

const problemsOf = (plain: object) => fieldProblems(validateSync(plainToInstance(Input, plain)));

describe('fieldProblems', () => {
  it('says a field left out is required, not what its length should be', () => {
    expect(problemsOf({})).toEqual({ password: 'password is required', email: 'email is required' });
  });

  it('names the first failing check in the order the DTO lists them: the type before the length', () => {
    expect(problemsOf({ password: 12345, email: 7 })).toEqual({ password: 'password must be a string', email: 'email must be an email' });
  });

  it('names the one check that fails', () => {
    expect(problemsOf({ password: '', email: 'someone@example.test', role: 'root' })).toEqual({
      password: 'password should not be empty',
      role: 'role must be one of the following values: user, admin',
    });
    expect(problemsOf({ password: 'far too long', email: 'someone@example.test' })).toEqual({
      password: 'password must be shorter than or equal to 8 characters',
    });
  });

  it('treats null as given, and a field with only nested problems as invalid', () => {
    expect(problemsOf({ password: 'ok', email: 'someone@example.test', role: null })).toEqual({
      role: 'role must be one of the following values: user, admin',
    });
    expect(problemsOf({ password: 'ok', email: 'someone@example.test', inner: {} })).toEqual({ inner: 'inner is invalid' });
  });
});
