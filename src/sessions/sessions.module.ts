import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { APP_INTERCEPTOR } from '@nestjs/core';
import type { AppConfiguration } from '../config/configuration';
import { MongooseModule } from '@nestjs/mongoose';
import { UsersModule } from '../users/users.module';
import { SessionEvent, SessionEventSchema } from './session-event.schema';
import { SessionsRepository } from './sessions.repository';
import { SessionActivityInterceptor } from './session-activity.interceptor';
import { SessionEventsService } from './session-events.service';
import { SessionExpiryPolicy } from './session-expiry-policy';
import { SessionStateMiddleware } from './session-state.middleware';
import { sessionStoreProvider } from './session-store.provider';
import { SESSION_STORE } from './session.constants';
import { SessionsService } from './sessions.service';

@Module({
  imports: [UsersModule, MongooseModule.forFeature([{ name: SessionEvent.name, schema: SessionEventSchema }])],
  providers: [
    {
      provide: SessionExpiryPolicy,
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfiguration, true>) => {
        const { inactivityMs, absoluteMs } = config.get('session', { infer: true });
        return new SessionExpiryPolicy(inactivityMs, absoluteMs);
      },
    },
    sessionStoreProvider,
    SessionEventsService,
    SessionsRepository,
    SessionsService,
    SessionStateMiddleware,
    { provide: APP_INTERCEPTOR, useClass: SessionActivityInterceptor },
  ],
  exports: [SESSION_STORE, SessionsService, SessionsRepository, SessionEventsService, SessionStateMiddleware, SessionExpiryPolicy],
})
export class SessionsModule {}
