import { NestFactory } from '@nestjs/core';
import { parseArgs } from 'node:util';
import { AppException } from '../../common/errors/app.exception';
import { EnvironmentError, validateEnvironment } from '../../config/environment';
import { USER_ROLES, UserRole } from '../user.schema';
import { UsersService } from '../users.service';
import { CliModule } from './cli.module';

const USAGE = 'Usage: npm run user:create -- --email <email> --password <password> [--name <name>] [--role user|admin]';
const EMAIL = /^[^\s@]+@[^\s@]+$/;

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

function parseInput() {
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({
      options: { email: { type: 'string' }, password: { type: 'string' }, name: { type: 'string' }, role: { type: 'string' } },
    }));
  } catch (error) {
    fail(`${(error as Error).message}\n${USAGE}`);
  }
  const { email, password, name, role = 'user' } = values;
  if (!email || !password) fail(`--email and --password are required.\n${USAGE}`);
  if (!EMAIL.test(email)) fail(`--email: "${email}" is not an email address.`);
  if (!USER_ROLES.includes(role as UserRole)) fail(`--role must be one of: ${USER_ROLES.join(', ')}.`);
  return { email, password, name, role: role as UserRole };
}

/** Creates a user in the configured database (MONGODB_URI, or the embedded development database). */
async function main(): Promise<void> {
  const input = parseInput();
  let env;
  try {
    env = validateEnvironment({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
  } catch (error) {
    fail((error as EnvironmentError).problems?.join('\n') ?? String(error));
  }
  const app = await NestFactory.createApplicationContext(CliModule.forRoot(env), { logger: ['error', 'warn'] });
  try {
    const user = await app.get(UsersService).create(input);
    process.stdout.write(`Created ${user.role} ${user.email} (id ${user.id})\n`);
  } catch (error) {
    const fields = error instanceof AppException ? (error.details?.fields as Record<string, string> | undefined) : undefined;
    if (!fields) throw error;
    process.exitCode = 1;
    for (const [field, problem] of Object.entries(fields)) process.stderr.write(`--${field} ${problem}\n`);
  } finally {
    await app.close();
  }
}

void main();
