import { DynamicModule, Module, ValidationPipe } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import type { DestinationStream } from 'pino';
import { AccountModule } from './account/account.module';
import { AdminModule } from './admin/admin.module';
import { AuthModule } from './auth/auth.module';
import { AllExceptionsFilter } from './common/errors/all-exceptions.filter';
import { AppException } from './common/errors/app.exception';
import { CsrfModule } from './common/http/csrf/csrf.module';
import { ErrorCode } from './common/errors/error-codes';
import { DriverSafeInputPipe } from './common/validation/driver-safe-input.pipe';
import { fieldProblems } from './common/validation/field-problems';
import { LifecycleModule } from './common/lifecycle/lifecycle.module';
import { LoggingModule } from './common/logging/logging.module';
import { configModule } from './config/config.module';
import { EnvironmentVariables } from './config/environment';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { SecondFactorsModule } from './second-factors/second-factors.module';
import { SessionEventsModule } from './session-events/session-events.module';
import { SessionHttpModule } from './session-http/session-http.module';
import { SessionsModule } from './sessions/sessions.module';
import { AdminBootstrapService } from './users/admin-bootstrap.service';
import { UsersModule } from './users/users.module';

export interface AppModuleOptions {
  /** The validated environment (see validateEnvironment). */
  env: EnvironmentVariables;
  /** Where logs go; stdout when unset. Tests pass a stream to read them. */
  logDestination?: DestinationStream;
}

/** Invalid input becomes VAL_2001 naming each bad field, never echoing its value. */
const validationPipe = new ValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  exceptionFactory: (errors) => new AppException(ErrorCode.INVALID_INPUT, { fields: fieldProblems(errors) }),
});

@Module({})
export class AppModule {
  static forRoot({ env, logDestination }: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        configModule(env),
        LoggingModule.forRoot(logDestination),
        LifecycleModule,
        DatabaseModule,
        MetricsModule,
        CsrfModule,
        UsersModule,
        SessionEventsModule,
        SessionsModule,
        SessionHttpModule,
        SecondFactorsModule,
        AuthModule,
        AccountModule,
        AdminModule,
        HealthModule,
      ],
      providers: [
        AdminBootstrapService,
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
        // Global pipes run in this order: strings the driver refuses first, whatever the parameter's type.
        { provide: APP_PIPE, useClass: DriverSafeInputPipe },
        { provide: APP_PIPE, useValue: validationPipe },
      ],
    };
  }
}
