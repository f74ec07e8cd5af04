import { passwordProblem } from './password-policy';

describe('passwordProblem', () => {
  it('accepts a long, varied password', () => {
    expect(passwordProblem('correct horse battery staple', 'ann@example.test')).toBeUndefined();
  });

  it.each([
    ['short1', 'must be at least 12 characters'],
    ['aaaaaaaaaaaaaaaa', 'is too repetitive'],
    ['x'.repeat(257), 'must be at most 256 characters'],
  ])('refuses %j', (password, problem) => {
    expect(passwordProblem(password)).toBe(problem);
  });

  it('refuses a password containing the email name', () => {
    expect(passwordProblem('annabelle-2026-secret', 'annabelle@example.test')).toBe('must not contain the email address');
  });
});
