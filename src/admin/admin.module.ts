import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfiguration } from '../config/configuration';
import { SecondFactorsModule } from '../second-factors/second-factors.module';
import { SessionEventsModule } from '../session-events/session-events.module';
import { SessionHttpModule } from '../session-http/session-http.module';
import { SessionsModule } from '../sessions/sessions.module';
import { UsersModule } from '../users/users.module';
import { ActiveSessionsNow } from './active-sessions-now';
import { AdminApiController } from './admin-api.controller';
import { AdminPagesController } from './admin-pages.controller';
import { AdminTimeFormat } from './admin-time';
import { AdminService } from './admin.service';
import { AnalyticsPageService } from './analytics-page.service';
import { AnalyticsService } from './analytics.service';

@Module({
  imports: [UsersModule, SessionsModule, SessionEventsModule, SessionHttpModule, SecondFactorsModule],
  controllers: [AdminApiController, AdminPagesController],
  providers: [
    ActiveSessionsNow,
    AdminService,
    AnalyticsService,
    AnalyticsPageService,
    {
      provide: AdminTimeFormat,
      useFactory: (config: ConfigService<AppConfiguration, true>) => new AdminTimeFormat(config.get('admin', { infer: true }).timeZone),
      inject: [ConfigService],
    },
  ],
})
export class AdminModule {}
