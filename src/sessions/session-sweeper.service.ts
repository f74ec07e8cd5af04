import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { HashedMongoStore } from './hashed-mongo-store';
import { SESSION_STORE, SESSION_SWEEP_INTERVAL_MS } from './session.constants';

/**
 * Deletes expired session documents where the server lacks TTL indexes. Not
 * connect-mongo's `autoRemove: 'interval'`: it deletes with `w: 0`, and
 * FerretDB answers unacknowledged writes anyway, which desynchronises the
 * driver's connection. Behaviour is the same either way: deadlines are
 * enforced from the session's timestamps, this only frees space.
 */
@Injectable()
export class SessionSweeper implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(SessionSweeper.name);
  private timer?: NodeJS.Timeout;

  constructor(@Inject(SESSION_STORE) private readonly store: HashedMongoStore) {}

  onModuleInit(): void {
    if (this.store.expiresNatively) return;
    this.logger.log('No TTL index support: expired sessions are swept every minute');
    this.timer = setInterval(() => void this.sweep(), SESSION_SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  async sweep(): Promise<number> {
    try {
      const sessions = await this.store.collection;
      const { deletedCount } = await sessions.deleteMany({ expires: { $lt: new Date() } });
      return deletedCount;
    } catch (error) {
      this.logger.warn(`Session sweep failed: ${(error as Error).message}`);
      return 0;
    }
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }
}
