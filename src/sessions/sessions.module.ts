import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { APP_INTERCEPTOR } from '@nestjs/core';
import type { AppConfiguration } from '../config/configuration';
import { UsersModule } from '../users/users.module';
import { SessionActivityInterceptor } from './session-activity.interceptor';
import { SessionEventsService } from './session-events.service';
import { SessionExpiryPolicy } from './session-expiry-policy';
import { SessionStateMiddleware } from './session-state.middleware';
import { sessionStoreProvider } from './session-store.provider';
import { SESSION_STORE } from './session.constants';
import { SessionsService } from './sessions.service';

@Module({
  imports: [UsersModule],
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
    SessionsService,
    SessionStateMiddleware,
    { provide: APP_INTERCEPTOR, useClass: SessionActivityInterceptor },
  ],
  exports: [SESSION_STORE, SessionsService, SessionStateMiddleware, SessionExpiryPolicy],
})
export class SessionsModule {}
