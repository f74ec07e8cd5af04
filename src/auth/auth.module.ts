import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { CsrfGuard } from '../common/http/csrf/csrf.guard';
import { SecondFactorsModule } from '../second-factors/second-factors.module';
import { SessionEventsModule } from '../session-events/session-events.module';
import { SessionHttpModule } from '../session-http/session-http.module';
import { SessionsModule } from '../sessions/sessions.module';
import { UsersModule } from '../users/users.module';
import { AccessGuard } from './access.guard';
import { AuthApiController } from './auth-api.controller';
import { AuthPagesController } from './auth-pages.controller';
import { AuthService } from './auth.service';
import { BrowserSignIn } from './browser-sign-in.service';
import { DeviceCookieService } from './device-cookie.service';
import { FactorEnrolment } from './factor-enrolment.service';
import { RecentAuthGuard } from './recent-auth.guard';
import { LoginThrottleService } from './login-throttle.service';
import { PasskeySignIn } from './passkey-sign-in.service';
import { PasskeysController } from './passkeys.controller';
import { RolesGuard } from './roles.guard';
import { SecondFactorsController } from './second-factors.controller';
import { SecureTransportGuard } from './secure-transport.guard';
import { SessionGuard } from './session.guard';

@Module({
  imports: [UsersModule, SessionsModule, SessionEventsModule, SessionHttpModule, SecondFactorsModule],
  controllers: [AuthApiController, AuthPagesController, SecondFactorsController, PasskeysController],
  providers: [
    AuthService,
    BrowserSignIn,
    FactorEnrolment,
    PasskeySignIn,
    DeviceCookieService,
    LoginThrottleService,
    SessionGuard,
    RolesGuard,
    SecureTransportGuard,
    CsrfGuard,
    RecentAuthGuard,
    { provide: APP_GUARD, useClass: AccessGuard },
  ],
  exports: [AuthService, BrowserSignIn, FactorEnrolment, PasskeySignIn],
})
export class AuthModule {}
