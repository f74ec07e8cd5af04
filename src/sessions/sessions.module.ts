import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { APP_INTERCEPTOR } from '@nestjs/core';
import type { AppConfiguration } from '../config/configuration';
import { MongooseModule } from '@nestjs/mongoose';
import { UsersModule } from '../users/users.module';
import { SessionEvent, SessionEventSchema } from './session-event.schema';
import { SessionsRepository } from './sessions.repository';
import { SessionEventsRepository } from './session-events.repository';
import { DevicesController } from './devices.controller';
import { DevicesService } from './devices.service';
import { ActiveSessionsGauge } from './active-sessions-gauge.service';
import { AccountPagesController } from './account-pages.controller';
import { SessionActivityInterceptor } from './session-activity.interceptor';
import { SessionEventsService } from './session-events.service';
import { SessionExpiryPolicy } from './session-expiry-policy';
import { SessionStateMiddleware } from './session-state.middleware';
import { sessionStoreProvider } from './session-store.provider';
import { SESSION_STORE } from './session.constants';
import { SessionsService } from './sessions.service';

@Module({
  controllers: [DevicesController, AccountPagesController],
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
    SessionEventsRepository,
    SessionsService,
    DevicesService,
    ActiveSessionsGauge,
    SessionStateMiddleware,
    { provide: APP_INTERCEPTOR, useClass: SessionActivityInterceptor },
  ],
  exports: [ActiveSessionsGauge, SESSION_STORE, SessionsService, SessionsRepository, SessionEventsService, SessionEventsRepository, SessionStateMiddleware, SessionExpiryPolicy],
})
export class SessionsModule {}
