import { Inject, Injectable } from '@nestjs/common';
import * as argon2 from 'argon2';

export const PASSWORD_HASH_OPTIONS = Symbol('PASSWORD_HASH_OPTIONS');
export type PasswordHashOptions = Pick<argon2.HashOptions, 'memoryCost' | 'timeCost' | 'parallelism'>;

/** OWASP's argon2id baseline: 19 MiB, 2 passes. */
export const DEFAULT_PASSWORD_HASH_OPTIONS: PasswordHashOptions = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

@Injectable()
export class PasswordHasher {
  /** Verified against for unknown emails, so they take as long as a wrong password. */
  private readonly dummyHash: Promise<string>;

  constructor(@Inject(PASSWORD_HASH_OPTIONS) private readonly options: PasswordHashOptions) {
    this.dummyHash = this.hash('dummy password for timing equality');
  }

  hash(password: string): Promise<string> {
    return argon2.hash(password, { ...this.options, type: argon2.argon2id });
  }

  async verify(hash: string, password: string): Promise<boolean> {
    try {
      return await argon2.verify(hash, password);
    } catch {
      return false;
    }
  }

  /** Spends the time of a real verification and always fails. */
  async verifyDummy(password: string): Promise<false> {
    await this.verify(await this.dummyHash, password);
    return false;
  }
}
