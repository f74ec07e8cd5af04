import { DynamicModule } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { buildConfiguration } from './configuration';
import { EnvironmentVariables } from './environment';

/** The typed configuration from an already validated environment (never read at import time). */
export function configModule(env: EnvironmentVariables): Promise<DynamicModule> {
  return ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, skipProcessEnv: true, load: [() => buildConfiguration(env)] });
}
