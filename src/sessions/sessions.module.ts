import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfiguration } from '../config/configuration';
import { SessionEventsModule } from '../session-events/session-events.module';
import { UsersModule } from '../users/users.module';
import { ActiveSessionsGauge } from './active-sessions-gauge.service';
import { MySessionsService } from './my-sessions.service';
import { RecentAuthPolicy } from './recent-auth.policy';
import { SessionExpiryPass } from './session-expiry-pass.service';
import { SessionExpiryPolicy } from './session-expiry-policy';
import { sessionStoreProvider } from './session-store.provider';
import { SessionsRepository } from './sessions.repository';
import { SessionsService } from './sessions.service';

/**
 * A session's life: its store and repository, SessionsService (the one owner
 * of its state), the expiry policy and pass. Exports services only: the
 * `sessions` collection is reached through SessionsService.
 */
@Module({
  imports: [UsersModule, SessionEventsModule],
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
    SessionsService,
    MySessionsService,
    RecentAuthPolicy,
    ActiveSessionsGauge,
    SessionExpiryPass,
  ],
  exports: [SessionsService, MySessionsService, RecentAuthPolicy, ActiveSessionsGauge, SessionExpiryPolicy],
})
export class SessionsModule {}
