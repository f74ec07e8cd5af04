import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { CsrfGuard } from '../common/http/csrf/csrf.guard';
import { SessionsModule } from '../sessions/sessions.module';
import { UsersModule } from '../users/users.module';
import { AuthApiController } from './auth-api.controller';
import { AuthPagesController } from './auth-pages.controller';
import { AuthService } from './auth.service';
import { BrowserSignIn } from './browser-sign-in.service';
import { DeviceCookieService } from './device-cookie.service';
import { RecentAuthGuard } from './recent-auth.guard';
import { LoginThrottleService } from './login-throttle.service';
import { RolesGuard } from './roles.guard';
import { SecureTransportGuard } from './secure-transport.guard';
import { SessionGuard } from './session.guard';

@Module({
  imports: [UsersModule, SessionsModule],
  controllers: [AuthApiController, AuthPagesController],
  providers: [
    AuthService,
    BrowserSignIn,
    DeviceCookieService,
    LoginThrottleService,
    // Order matters: who you are, what you may do, whether a cookie can be set, whether the request is forged,
    // then whether a sensitive action has a recent password behind it.
    { provide: APP_GUARD, useClass: SessionGuard },
    { provide: APP_GUARD, useClass: RolesGuard },
    { provide: APP_GUARD, useClass: SecureTransportGuard },
    { provide: APP_GUARD, useClass: CsrfGuard },
    { provide: APP_GUARD, useClass: RecentAuthGuard },
  ],
  exports: [AuthService],
})
export class AuthModule {}
