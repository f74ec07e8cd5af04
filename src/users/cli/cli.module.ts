import { DynamicModule, Module } from '@nestjs/common';
import { LoggingModule } from '../../common/logging/logging.module';
import { configModule } from '../../config/config.module';
import { EnvironmentVariables } from '../../config/environment';
import { DatabaseModule } from '../../database/database.module';
import { MetricsModule } from '../../metrics/metrics.module';
import { UsersModule } from '../users.module';

/** Just enough of the app to manage users from the command line (hashing and sweeping report to metrics, unread here). */
@Module({})
export class CliModule {
  static forRoot(env: EnvironmentVariables): DynamicModule {
    return {
      module: CliModule,
      imports: [configModule(env), LoggingModule.forRoot(), MetricsModule, DatabaseModule, UsersModule],
    };
  }
}
