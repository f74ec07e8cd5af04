import { plainToInstance, Transform } from 'class-transformer';
import {
  IsEmail,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsPositive,
  IsString,
  Max,
  Min,
  Matches,
  MinLength,
  ValidateIf,
  validateSync,
  ValidationError,
} from 'class-validator';
import { MIN_PASSWORD_LENGTH } from './credential-limits';
import { USER_ROLES, UserRole } from './roles';
import { parseTrustProxy, TrustProxyError } from './trust-proxy';

/**
 * Secrets written by hand for an example or a first try, never to reach
 * production: placeholder words anywhere, or one character repeated. A
 * generated secret (`openssl rand -base64 48`) contains none of these words.
 */
const PLACEHOLDER_SECRET = /change[-_ ]?me|replace[-_ ]?me|example|placeholder|secret|password|^(.)\1+$/i;
export const MIN_SECRET_LENGTH = 32;

const toBoolean = ({ value }: { value: unknown }) => {
  if (value === undefined || value === '') return undefined;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  return value;
};
/** Only the words `true` and `false`; anything else is left for the validator to refuse. */
const toStrictBoolean = ({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value);
const toNumber = ({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : Number(value));
const toList = ({ value }: { value: unknown }) =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean)
    : value;

const isProduction = (env: EnvironmentVariables) => env.NODE_ENV === 'production';

/**
 * Every variable the service reads, validated once at boot. Anything not listed
 * here is not configuration.
 */
export class EnvironmentVariables {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @Transform(toNumber)
  @IsInt({ message: 'PORT must be a whole number from 0 to 65535' })
  @Min(0, { message: 'PORT must be a whole number from 0 to 65535' })
  @Max(65535, { message: 'PORT must be a whole number from 0 to 65535' })
  PORT = 3000;

  @ValidateIf((env: EnvironmentVariables) => isProduction(env) || env.MONGODB_URI !== undefined)
  @IsString({ message: 'MONGODB_URI is required when NODE_ENV=production' })
  MONGODB_URI?: string;

  @ValidateIf((env: EnvironmentVariables) => isProduction(env) || env.SESSION_SECRET !== undefined)
  @Transform(toList)
  @IsString({ each: true, message: 'SESSION_SECRET is required when NODE_ENV=production' })
  @MinLength(MIN_SECRET_LENGTH, {
    each: true,
    message: `SESSION_SECRET: each secret must be at least ${MIN_SECRET_LENGTH} characters`,
  })
  SESSION_SECRET?: string[];

  @Transform(toNumber)
  @IsNumber({}, { message: 'SESSION_INACTIVITY_MINUTES must be a positive number (decimals allowed)' })
  @IsPositive({ message: 'SESSION_INACTIVITY_MINUTES must be a positive number (decimals allowed)' })
  SESSION_INACTIVITY_MINUTES = 15;

  @Transform(toNumber)
  @IsNumber({}, { message: 'SESSION_EXPIRE_MINUTES must be a positive number (decimals allowed)' })
  @IsPositive({ message: 'SESSION_EXPIRE_MINUTES must be a positive number (decimals allowed)' })
  SESSION_EXPIRE_MINUTES = 160;

  /** No `__Host-`/`__Secure-` of one's own: the app adds `__Host-` exactly when cookies are Secure (browsers drop it otherwise). */
  @Matches(/^(?!__(?:host|secure)-)[A-Za-z0-9_-]+$/i, {
    message:
      'SESSION_COOKIE_NAME may hold letters, digits, _ and - only, without a __Host- or __Secure- prefix (with COOKIE_SECURE the app adds __Host- itself)',
  })
  SESSION_COOKIE_NAME = 'session_token';

  @IsOptional()
  @Transform(toBoolean)
  @IsIn([true, false], { message: 'COOKIE_SECURE must be true or false' })
  COOKIE_SECURE?: boolean;

  /** Checked by parseTrustProxy in validateEnvironment: a hop count, addresses, or false. */
  @IsOptional()
  @IsString()
  TRUST_PROXY?: string;

  @Transform(toList)
  @IsString({ each: true })
  CORS_ORIGINS: string[] = [];

  @ValidateIf((env: EnvironmentVariables) => env.ADMIN_PASSWORD !== undefined || env.ADMIN_EMAIL !== undefined)
  @IsEmail({}, { message: 'ADMIN_EMAIL must be an email address (and is required with ADMIN_PASSWORD)' })
  ADMIN_EMAIL?: string;

  @ValidateIf((env: EnvironmentVariables) => env.ADMIN_EMAIL !== undefined || env.ADMIN_PASSWORD !== undefined)
  @IsString({ message: 'ADMIN_PASSWORD is required with ADMIN_EMAIL' })
  @MinLength(MIN_PASSWORD_LENGTH, {
    message: `ADMIN_PASSWORD must be at least ${MIN_PASSWORD_LENGTH} characters`,
  })
  ADMIN_PASSWORD?: string;

  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'METRICS_TOKEN must be at least 16 characters' })
  METRICS_TOKEN?: string;

  @Transform(toNumber)
  @IsInt({ message: 'LOGIN_MAX_FAILURES must be a whole number ≥ 1' })
  @Min(1, { message: 'LOGIN_MAX_FAILURES must be a whole number ≥ 1' })
  LOGIN_MAX_FAILURES = 5;

  @Transform(toNumber)
  @IsInt({ message: 'LOGIN_MAX_FAILURES_PER_IP must be a whole number ≥ 1' })
  @Min(1, { message: 'LOGIN_MAX_FAILURES_PER_IP must be a whole number ≥ 1' })
  LOGIN_MAX_FAILURES_PER_IP = 50;

  @Transform(toNumber)
  @IsNumber({}, { message: 'LOGIN_LOCK_MINUTES must be a positive number' })
  @IsPositive({ message: 'LOGIN_LOCK_MINUTES must be a positive number' })
  LOGIN_LOCK_MINUTES = 15;

  /** Unset: the number of CPU cores. */
  @IsOptional()
  @Transform(toNumber)
  @IsInt({ message: 'PASSWORD_HASH_CONCURRENCY must be a whole number ≥ 1' })
  @Min(1, { message: 'PASSWORD_HASH_CONCURRENCY must be a whole number ≥ 1' })
  PASSWORD_HASH_CONCURRENCY?: number;

  /** Unset: 8 × PASSWORD_HASH_CONCURRENCY. */
  @IsOptional()
  @Transform(toNumber)
  @IsInt({ message: 'SIGN_IN_QUEUE_MAX must be a whole number ≥ 0' })
  @Min(0, { message: 'SIGN_IN_QUEUE_MAX must be a whole number ≥ 0' })
  SIGN_IN_QUEUE_MAX?: number;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  @Transform(toNumber)
  @IsNumber({}, { message: 'REAUTH_MINUTES must be a positive number (decimals allowed)' })
  @IsPositive({ message: 'REAUTH_MINUTES must be a positive number (decimals allowed)' })
  REAUTH_MINUTES = 5;

  @Transform(toNumber)
  @IsInt({ message: 'SESSION_MAX_PER_USER must be a whole number ≥ 0 (0: no limit)' })
  @Min(0, { message: 'SESSION_MAX_PER_USER must be a whole number ≥ 0 (0: no limit)' })
  SESSION_MAX_PER_USER = 0;

  @Transform(toBoolean)
  @IsIn([true, false], { message: 'SESSION_BIND_USER_AGENT must be true or false' })
  SESSION_BIND_USER_AGENT = true;

  @Transform(toNumber)
  @IsNumber({}, { message: 'DEVICE_COOKIE_DAYS must be a positive number' })
  @IsPositive({ message: 'DEVICE_COOKIE_DAYS must be a positive number' })
  DEVICE_COOKIE_DAYS = 180;

  @Transform(toNumber)
  @IsNumber({}, { message: 'SESSION_SWEEP_SECONDS must be a positive number (decimals allowed)' })
  @IsPositive({ message: 'SESSION_SWEEP_SECONDS must be a positive number (decimals allowed)' })
  SESSION_SWEEP_SECONDS = 60;

  /** Serve /api/docs and /api/docs-json; unset: on outside production, off in production. */
  @IsOptional()
  @Transform(toStrictBoolean)
  @IsIn([true, false], { message: 'API_DOCS must be true or false' })
  API_DOCS?: boolean;

  @Transform(toNumber)
  @IsNumber({}, { message: 'SHUTDOWN_DRAIN_SECONDS must be a positive number (decimals allowed)' })
  @IsPositive({ message: 'SHUTDOWN_DRAIN_SECONDS must be a positive number (decimals allowed)' })
  SHUTDOWN_DRAIN_SECONDS = 10;

  /** The site's origin; unset outside production: http://localhost:$PORT. Checked by publicOriginProblem in validateEnvironment. */
  @ValidateIf((env: EnvironmentVariables) => isProduction(env) || env.PUBLIC_URL !== undefined)
  @IsString({ message: 'PUBLIC_URL is required when NODE_ENV=production' })
  PUBLIC_URL?: string;

  @Transform(toList)
  @IsIn(USER_ROLES, { each: true, message: `MFA_REQUIRED_ROLES: each role must be one of ${USER_ROLES.join(', ')}` })
  MFA_REQUIRED_ROLES: UserRole[] = [];

  /** The one zone the admin console shows times in; checked by isTimeZone in validateEnvironment. */
  @IsString()
  ADMIN_TIME_ZONE = 'UTC';
}

/** An IANA name the runtime knows (`Europe/Paris`, `UTC`); a bare UTC offset is no zone: it does not follow summer time. */
export function isTimeZone(name: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(name)) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/**
 * Why `value` is not an origin the site can be reached at (scheme, host and
 * port, nothing else), or undefined. Production needs https: passkeys work
 * only in a secure context, and cookies there are Secure.
 */
export function publicOriginProblem(value: string, production: boolean): string | undefined {
  if (!URL.canParse(value)) return `"${value}" is not a URL such as https://sessions.example.com`;
  const url = new URL(value);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must start with https:// (or http:// outside production)';
  if (production && url.protocol !== 'https:') return 'must start with https:// in production';
  if (url.username || url.password || url.pathname !== '/' || url.search || url.hash) {
    return `must be an origin only (scheme, host and port), such as ${url.origin}`;
  }
  return undefined;
}

export class EnvironmentError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.join('\n')}`);
  }
}

function describe(error: ValidationError): string {
  // The first check in the source's order: class-validator lists them in reverse.
  const message = Object.values(error.constraints ?? {}).at(-1) ?? 'invalid value';
  const text = message.startsWith(error.property) ? message.slice(error.property.length).replace(/^:?\s*/, '') : message;
  return `${error.property}: ${text}`;
}

/**
 * Validates the raw environment; throws EnvironmentError with one line per bad
 * variable so an operator can fix them all in one go.
 */
export function validateEnvironment(raw: NodeJS.ProcessEnv): EnvironmentVariables {
  // An empty value (`FOO=` in a compose .env file) means "not set".
  const present = Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== undefined && value !== ''));
  const env = plainToInstance(EnvironmentVariables, present, { exposeDefaultValues: true });
  const problems = validateSync(env, { forbidUnknownValues: false }).map(describe);

  if (isProduction(env) && env.SESSION_SECRET?.some((secret) => PLACEHOLDER_SECRET.test(secret))) {
    problems.push('SESSION_SECRET: looks like a placeholder; generate one with `openssl rand -base64 48`');
  }
  try {
    parseTrustProxy(env.TRUST_PROXY);
  } catch (error) {
    if (!(error instanceof TrustProxyError)) throw error;
    problems.push(`TRUST_PROXY: ${error.message}`);
  }
  if (typeof env.ADMIN_TIME_ZONE === 'string' && !isTimeZone(env.ADMIN_TIME_ZONE)) {
    problems.push(`ADMIN_TIME_ZONE: "${env.ADMIN_TIME_ZONE}" is not an IANA time zone name such as UTC or Europe/Paris`);
  }
  const originProblem = typeof env.PUBLIC_URL === 'string' ? publicOriginProblem(env.PUBLIC_URL, isProduction(env)) : undefined;
  if (originProblem) problems.push(`PUBLIC_URL: ${originProblem}`);
  if (problems.length > 0) throw new EnvironmentError(problems);
  return env;
}
