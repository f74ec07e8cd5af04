import { ConfigService } from '@nestjs/config';
import { Logger } from 'nestjs-pino';
import { createApp } from './bootstrap';
import type { AppConfigService } from './config/app-config.service';
import { EnvironmentError, EnvironmentVariables, validateEnvironment } from './config/environment';

function environmentOrExit(): EnvironmentVariables {
  try {
    return validateEnvironment(process.env);
  } catch (error) {
    if (!(error instanceof EnvironmentError)) throw error;
    for (const problem of error.problems) process.stderr.write(`Invalid configuration: ${problem}\n`);
    process.exit(1);
  }
}

async function main(): Promise<void> {
  const app = await createApp({ env: environmentOrExit() });
  app.enableShutdownHooks();
  const { port } = app.get<AppConfigService>(ConfigService).get('http', { infer: true });
  await app.listen(port);
  app.get(Logger).log(`Listening on http://localhost:${port}`);
}

void main();
