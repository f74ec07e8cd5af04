import { DynamicModule, Global, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream, Logger } from 'pino';
import type { AppConfiguration } from '../../config/configuration';
import { createRootLogger, wantsPrettyLogs } from './logger.factory';

export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

/**
 * One pino logger for the framework, the services and the request log. The
 * request log (request-log.observer.ts) is told by the first middleware, so even requests
 * rejected by the body parser get their line; nestjs-pino reuses it.
 */
@Global()
@Module({})
export class LoggingModule {
  static forRoot(destination?: DestinationStream): DynamicModule {
    const rootLogger = {
      provide: ROOT_LOGGER,
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfiguration, true>) => {
        const pretty = wantsPrettyLogs({
          production: config.get('production', { infer: true }),
          isTTY: process.stdout.isTTY === true,
          destination,
        });
        return createRootLogger(config.get('logLevel', { infer: true }), destination, pretty);
      },
    };
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRootAsync({
          inject: [ROOT_LOGGER],
          // No middleware of its own (`forRoutes: []`): the request log is mounted in bootstrap, and the
          // correlation and user ids come from RequestContext's mixin, not from a second async store per request.
          useFactory: (logger: Logger) => ({ pinoHttp: { logger }, useExisting: true, forRoutes: [] }),
        }),
      ],
      providers: [rootLogger],
      exports: [rootLogger, LoggerModule],
    };
  }
}
