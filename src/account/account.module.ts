import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { SessionEventsModule } from '../session-events/session-events.module';
import { SessionHttpModule } from '../session-http/session-http.module';
import { SessionsModule } from '../sessions/sessions.module';
import { AccountPagesController } from './account-pages.controller';

/** Pages for the signed-in person about their own account. */
@Module({
  imports: [AuthModule, SessionsModule, SessionEventsModule, SessionHttpModule],
  controllers: [AccountPagesController],
})
export class AccountModule {}
