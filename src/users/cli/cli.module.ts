import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { LoggingModule } from '../../common/logging/logging.module';
import { buildConfiguration } from '../../config/configuration';
import { EnvironmentVariables } from '../../config/environment';
import { DatabaseModule } from '../../database/database.module';
import { UsersModule } from '../users.module';

/** Just enough of the app to manage users from the command line. */
@Module({})
export class CliModule {
  static forRoot(env: EnvironmentVariables): DynamicModule {
    return {
      module: CliModule,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, skipProcessEnv: true, load: [() => buildConfiguration(env)] }),
        LoggingModule.forRoot(),
        DatabaseModule,
        UsersModule,
      ],
    };
  }
}
