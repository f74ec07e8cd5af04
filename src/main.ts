import { ConfigService } from '@nestjs/config';
import { Logger } from 'nestjs-pino';
import { createApp } from './bootstrap';
import { ShutdownService } from './common/lifecycle/shutdown.service';
import { lowerPriority, startThreadPool } from './common/lifecycle/thread-priority';
import type { AppConfigService } from './config/app-config.service';
import { EnvironmentError, EnvironmentVariables, validateEnvironment } from './config/environment';

const SHUTDOWN_SIGNALS = ['SIGTERM', 'SIGINT'] as const;
/**
 * The niceness of libuv's thread pool, where argon2 hashes. In a sign-in
 * storm the hashes would take the CPU from the thread that serves every
 * request; at 10 that thread comes first, and the hashes still get all the
 * CPU nobody else wants (npm run bench:storm measures what it buys). Not
 * SCHED_IDLE, though it lets that thread in sooner: beside any busy thread of
 * normal priority it leaves the hashes next to nothing (docs/performance.md).
 */
const THREAD_POOL_NICE = 10;

/** What to do when the port cannot be had: one line, as for a bad variable, not a stack trace. */
const LISTEN_PROBLEMS: Record<string, string> = {
  EADDRINUSE: 'another process is listening on it; stop that one or set PORT to a free port',
  EACCES: 'this user may not listen on it (ports below 1024 need privileges); set PORT to 1024 or above',
};

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
  const env = environmentOrExit();
  // libuv's pool, before creating the app starts other threads (the development logger's worker).
  const pool = await startThreadPool();
  const lowered = lowerPriority(pool, THREAD_POOL_NICE);
  const app = await createApp({ env });
  const { port, shutdownDrainMs } = app.get<AppConfigService>(ConfigService).get('http', { infer: true });
  const logger = app.get(Logger);
  // Not Nest's enableShutdownHooks: it would close the MongoDB client under requests still in flight.
  let stopping = false;
  const stop = async (signal: string) => {
    // One stop, however many signals: under `npm start` a terminal's Ctrl-C reaches the app twice (from
    // the terminal and forwarded by npm), and a repeat must not cut the drain short; the drain has its bound.
    if (stopping) {
      logger.log(`${signal} received while shutting down`);
      return;
    }
    stopping = true;
    logger.log(`${signal} received`);
    await app.get(ShutdownService).drain(app.getHttpServer(), shutdownDrainMs);
    await app.close();
    logger.log('Shut down');
  };
  for (const signal of SHUTDOWN_SIGNALS) process.on(signal, (received) => void stop(received));
  try {
    await app.listen(port);
  } catch (error) {
    const problem = LISTEN_PROBLEMS[(error as NodeJS.ErrnoException).code ?? ''];
    if (!problem) throw error;
    process.stderr.write(`Cannot listen on port ${port}: ${problem}\n`);
    await app.close();
    process.exit(1);
  }
  logger.log(`Listening on port ${port} of every interface; ${lowered} pool threads at nice ${THREAD_POOL_NICE}`);
}

void main();
