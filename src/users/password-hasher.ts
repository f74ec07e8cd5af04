import { Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import * as argon2 from 'argon2';
import type { AppConfiguration } from '../config/configuration';
import { MetricsService } from '../metrics/metrics.service';
import { HashPlace, PasswordHashQueue } from './password-hash-queue';

export const PASSWORD_HASH_OPTIONS = Symbol('PASSWORD_HASH_OPTIONS');
export type PasswordHashOptions = Pick<argon2.HashOptions, 'memoryCost' | 'timeCost' | 'parallelism'>;

/** OWASP's argon2id baseline: 19 MiB, 2 passes. */
export const DEFAULT_PASSWORD_HASH_OPTIONS: PasswordHashOptions = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

/** Checks passwords from a place in the hash queue (PasswordHasher.checking). */
export interface PasswordCheck {
  verify(hash: string, password: string): Promise<boolean>;
  /** Spends the time of a real verification and always fails. */
  verifyDummy(password: string): Promise<false>;
}

/**
 * argon2id hashing and verification, every one through the bounded hash
 * queue (PASSWORD_HASH_CONCURRENCY at once, SIGN_IN_QUEUE_MAX waiting,
 * beyond that 503 SYS_9003).
 */
@Injectable()
export class PasswordHasher {
  /** Verified against for unknown emails, so they take as long as a wrong password. */
  private readonly dummyHash: Promise<string>;
  private readonly queue: PasswordHashQueue;

  constructor(
    @Inject(PASSWORD_HASH_OPTIONS) private readonly options: PasswordHashOptions,
    config: ConfigService<AppConfiguration, true>,
    metrics: MetricsService,
  ) {
    const { passwordHashConcurrency, signInQueueMax } = config.get('security', { infer: true });
    this.queue = new PasswordHashQueue(passwordHashConcurrency, signInQueueMax, metrics.passwordHashing);
    this.dummyHash = argon2.hash('dummy password for timing equality', this.argon2Options());
  }

  hash(password: string): Promise<string> {
    return this.queue.withPlace((place) => place.run(() => argon2.hash(password, this.argon2Options())));
  }

  /**
   * Runs `work` holding a place in the hash queue, taken before anything else
   * so that a sign-in refused in a storm (503 SYS_9003) has done no other work;
   * `work` checks passwords through the PasswordCheck it gets.
   */
  checking<T>(work: (check: PasswordCheck) => Promise<T>): Promise<T> {
    return this.queue.withPlace((place) =>
      work({
        verify: (hash, password) => verify(place, hash, password),
        verifyDummy: async (password) => {
          await verify(place, await this.dummyHash, password);
          return false;
        },
      }),
    );
  }

  private argon2Options(): argon2.HashOptions {
    return { ...this.options, type: argon2.argon2id };
  }
}

async function verify(place: HashPlace, hash: string, password: string): Promise<boolean> {
  try {
    return await place.run(() => argon2.verify(hash, password));
  } catch {
    return false;
  }
}
