import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-codes';
import { formErrorOf } from '../common/errors/form-errors';
import { PASSWORD_ERRORS, PASSWORD_OUTCOMES } from './account-messages';

describe('the password form’s outcomes', () => {
  it.each([
    [ErrorCode.INVALID_CREDENTIALS, 'wrong', 'That is not your current password.'],
    [ErrorCode.INVALID_INPUT, 'weak', 'Choose a new password of at least'],
    [ErrorCode.TOO_MANY_ATTEMPTS, 'locked', 'Too many failed attempts. Try again later.'],
  ])('reports %s as ?password=%s, which the page shows with its code', (code, name, message) => {
    const outcome = formErrorOf(new AppException(code, { fields: { newPassword: 'is too short' } }), PASSWORD_ERRORS).name;
    expect(outcome).toBe(name);
    expect(PASSWORD_OUTCOMES[outcome]).toEqual({ error: expect.stringContaining(message), code });
  });

  it('leaves a re-authentication or database error to the error page', () => {
    const reauth = new AppException(ErrorCode.REAUTH_REQUIRED, { reauthUrl: '/reauth' });
    expect(() => formErrorOf(reauth, PASSWORD_ERRORS)).toThrow(reauth);
    expect(() => formErrorOf(new AppException(ErrorCode.DEPENDENCY_UNAVAILABLE), PASSWORD_ERRORS)).toThrow(AppException);
  });

  it('says the password was changed on success, with no error', () => {
    expect(PASSWORD_OUTCOMES.changed).toEqual({ notice: expect.stringContaining('Your password has been changed.') });
  });
});
