import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { CsrfGuard } from '../common/http/csrf/csrf.guard';
import { SessionsModule } from '../sessions/sessions.module';
import { UsersModule } from '../users/users.module';
import { AuthApiController } from './auth-api.controller';
import { AuthPagesController } from './auth-pages.controller';
import { AuthService } from './auth.service';
import { LoginThrottleService } from './login-throttle.service';
import { RolesGuard } from './roles.guard';
import { SecureTransportGuard } from './secure-transport.guard';
import { SessionGuard } from './session.guard';

@Module({
  imports: [UsersModule, SessionsModule],
  controllers: [AuthApiController, AuthPagesController],
  providers: [
    AuthService,
    LoginThrottleService,
    // Order matters: who you are, what you may do, whether a cookie can be set, then whether the request is forged.
    { provide: APP_GUARD, useClass: SessionGuard },
    { provide: APP_GUARD, useClass: RolesGuard },
    { provide: APP_GUARD, useClass: SecureTransportGuard },
    { provide: APP_GUARD, useClass: CsrfGuard },
  ],
  exports: [AuthService],
})
export class AuthModule {}
