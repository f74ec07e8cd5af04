import { ConfigService } from '@nestjs/config';
import { Logger } from 'nestjs-pino';
import { createApp } from './bootstrap';
import { ShutdownService } from './common/lifecycle/shutdown.service';
import type { AppConfigService } from './config/app-config.service';
import { EnvironmentError, EnvironmentVariables, validateEnvironment } from './config/environment';

const SHUTDOWN_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

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
  const { port, shutdownDrainMs } = app.get<AppConfigService>(ConfigService).get('http', { infer: true });
  const logger = app.get(Logger);
  // Not Nest's enableShutdownHooks: it would close the MongoDB client under requests still in flight.
  const stop = async (signal: string) => {
    logger.log(`${signal} received`);
    await app.get(ShutdownService).drain(app.getHttpServer(), shutdownDrainMs);
    await app.close();
    logger.log('Shut down');
  };
  for (const signal of SHUTDOWN_SIGNALS) process.once(signal, (received) => void stop(received));
  await app.listen(port);
  logger.log(`Listening on http://localhost:${port}`);
}

void main();
