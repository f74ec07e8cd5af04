import { Module } from '@nestjs/common';
import { SessionsModule } from '../sessions/sessions.module';
import { MySessionsController } from './my-sessions.controller';
import { SessionHttpAdapter } from './session-http.adapter';
import { SessionStateMiddleware } from './session-state.middleware';

/** The web edge of a session: its express-session and cookie, what a request's cookie amounts to, and `/api/sessions`. */
@Module({
  imports: [SessionsModule],
  controllers: [MySessionsController],
  providers: [SessionHttpAdapter, SessionStateMiddleware],
  exports: [SessionHttpAdapter, SessionStateMiddleware],
})
export class SessionHttpModule {}
