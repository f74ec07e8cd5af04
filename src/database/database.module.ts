import { Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ConfigService } from '@nestjs/config';
import { getConnectionToken, MongooseModule } from '@nestjs/mongoose';
import mongoose, { Connection } from 'mongoose';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ROOT_LOGGER } from '../common/logging/logging.module';
import type { AppConfiguration } from '../config/configuration';
import { HEARTBEAT_FREQUENCY_MS, SERVER_SELECTION_TIMEOUT_MS } from './database.constants';
import { EMBEDDED_DB_DIR } from '../config/local-state';
import { EmbeddedDatabase, startEmbeddedDatabase } from './embedded-database';
import { ExpirySweeper } from './expiry-sweeper.service';

export const DATABASE_URI = Symbol('DATABASE_URI');

// Filters built from request input never carry query operators.
mongoose.set('sanitizeFilter', true);
mongoose.set('strictQuery', true);

/**
 * Starts the embedded database when MONGODB_URI is unset, and stops it with the
 * app. It logs through pino directly, not Nest's logger: Nest holds its log
 * lines until the app is up, and a first start that builds FerretDB for a
 * minute must show its progress while it happens.
 */
@Injectable()
export class DatabaseServer implements OnApplicationShutdown {
  private readonly logger: Logger;
  private embedded?: EmbeddedDatabase;

  constructor(
    private readonly config: ConfigService<AppConfiguration, true>,
    @Inject(ROOT_LOGGER) rootLogger: Logger,
    private readonly moduleRef: ModuleRef,
  ) {
    this.logger = rootLogger.child({ context: DatabaseServer.name });
  }

  async uri(): Promise<string> {
    const configured = this.config.get('database', { infer: true }).uri;
    if (configured) return configured;
    this.logger.info('MONGODB_URI is unset: using the embedded database');
    this.embedded = await startEmbeddedDatabase(join(EMBEDDED_DB_DIR, 'data'), (message) => this.logger.info(message));
    return `${this.embedded.uri}/session-service`;
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.embedded) return;
    // Nest runs this hook before mongoose's, which closes the client; FerretDB, asked to stop with a client
    // still connected, waits up to 3 s for it (ctxutil.WithDelay). Closing it first (closing again is a no-op) spares that.
    await this.moduleRef.get<Connection>(getConnectionToken(), { strict: false }).close();
    await this.embedded.stop();
  }
}

@Module({
  providers: [DatabaseServer, { provide: DATABASE_URI, inject: [DatabaseServer], useFactory: (server: DatabaseServer) => server.uri() }],
  exports: [DATABASE_URI],
})
class DatabaseServerModule {}

@Global()
@Module({
  imports: [
    MongooseModule.forRootAsync({
      imports: [DatabaseServerModule],
      inject: [DATABASE_URI],
      useFactory: (uri: string) => ({
        uri,
        serverSelectionTimeoutMS: SERVER_SELECTION_TIMEOUT_MS,
        heartbeatFrequencyMS: HEARTBEAT_FREQUENCY_MS,
        // Fail fast while disconnected instead of queueing commands for 10 s.
        bufferCommands: false,
        // Indexes are built by each module at start-up and awaited, not in the background:
        // the unique email index must exist before two instances race to create an admin.
        autoIndex: false,
        // Command events, so tests and the benchmark can count database operations per request.
        monitorCommands: true,
      }),
    }),
  ],
  providers: [ExpirySweeper],
  exports: [ExpirySweeper],
})
export class DatabaseModule {}
