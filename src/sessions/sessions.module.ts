import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { MongooseModule } from '@nestjs/mongoose';
import type { AppConfiguration } from '../config/configuration';
import { UsersModule } from '../users/users.module';
import { ActiveSessionsGauge } from './active-sessions-gauge.service';
import { MySessionsController } from './my-sessions.controller';
import { MySessionsService } from './my-sessions.service';
import { RecentAuthPolicy } from './recent-auth.policy';
import { SessionEvent, SessionEventSchema } from './session-event.schema';
import { SessionEventsRepository } from './session-events.repository';
import { SessionEventsService } from './session-events.service';
import { SessionExpiryPass } from './session-expiry-pass.service';
import { SessionExpiryPolicy } from './session-expiry-policy';
import { SessionStateMiddleware } from './session-state.middleware';
import { SessionStatsRepository } from './session-stats.repository';
import { sessionStoreProvider } from './session-store.provider';
import { SESSION_STORE } from './session.constants';
import { SessionsRepository } from './sessions.repository';
import { SessionsService } from './sessions.service';

@Module({
  controllers: [MySessionsController],
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
    SessionsRepository,
    sessionStoreProvider,
    SessionEventsRepository,
    SessionStatsRepository,
    SessionEventsService,
    SessionsService,
    MySessionsService,
    RecentAuthPolicy,
    ActiveSessionsGauge,
    SessionExpiryPass,
    SessionStateMiddleware,
  ],
  exports: [
    ActiveSessionsGauge,
    SESSION_STORE,
    SessionsService,
    SessionsRepository,
    MySessionsService,
    RecentAuthPolicy,
    SessionEventsService,
    SessionEventsRepository,
    SessionStatsRepository,
    SessionStateMiddleware,
    SessionExpiryPolicy,
    SessionExpiryPass,
  ],
})
export class SessionsModule {}
