import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../config/credential-limits';

/** Why a password is refused, or undefined when it is acceptable. Length over composition (NIST 800-63B). */
export function passwordProblem(password: string, email?: string): string | undefined {
  if (password.length < MIN_PASSWORD_LENGTH) return `must be at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.length > MAX_PASSWORD_LENGTH) return `must be at most ${MAX_PASSWORD_LENGTH} characters`;
  if (new Set(password).size < 4) return 'is too repetitive';
  if (email && password.toLowerCase().includes(email.toLowerCase().split('@')[0])) {
    return 'must not contain the email address';
  }
  return undefined;
}
