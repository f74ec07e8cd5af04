import { randomBytes } from 'node:crypto';
import { EnvironmentVariables } from './environment';

const MINUTE_MS = 60_000;

export interface HttpConfig {
  port: number;
  trustProxy: boolean;
  corsOrigins: string[];
}

export interface SessionConfig {
  cookieName: string;
  cookieSecure: boolean;
  /** First signs new cookies; all verify (rotation). */
  secrets: string[];
  inactivityMs: number;
  absoluteMs: number;
}

export interface DatabaseConfig {
  /** Unset outside production: an embedded server is started instead. */
  uri?: string;
}

export interface SecurityConfig {
  loginMaxFailures: number;
  loginMaxFailuresPerIp: number;
  loginLockMs: number;
  metricsToken?: string;
}

export interface AdminConfig {
  email?: string;
  password?: string;
  /** Outside production, create admin@localhost when no admin exists. */
  createDevelopmentAdmin: boolean;
}

export interface AppConfiguration {
  production: boolean;
  logLevel: string;
  http: HttpConfig;
  session: SessionConfig;
  database: DatabaseConfig;
  security: SecurityConfig;
  admin: AdminConfig;
}

/** Turns the validated environment into one typed object per concern. */
export function buildConfiguration(env: EnvironmentVariables): AppConfiguration {
  const production = env.NODE_ENV === 'production';
  return {
    production,
    logLevel: env.LOG_LEVEL,
    http: {
      port: env.PORT,
      trustProxy: env.TRUST_PROXY,
      corsOrigins: env.CORS_ORIGINS,
    },
    session: {
      cookieName: env.SESSION_COOKIE_NAME,
      cookieSecure: env.COOKIE_SECURE ?? production,
      // Outside production a per-boot secret keeps a first start working; sessions end on restart.
      secrets: env.SESSION_SECRET ?? [randomBytes(48).toString('base64url')],
      inactivityMs: env.SESSION_INACTIVITY_MINUTES * MINUTE_MS,
      absoluteMs: env.SESSION_EXPIRE_MINUTES * MINUTE_MS,
    },
    database: { uri: env.MONGODB_URI },
    security: {
      loginMaxFailures: env.LOGIN_MAX_FAILURES,
      loginMaxFailuresPerIp: env.LOGIN_MAX_FAILURES_PER_IP,
      loginLockMs: env.LOGIN_LOCK_MINUTES * MINUTE_MS,
      metricsToken: env.METRICS_TOKEN,
    },
    admin: {
      email: env.ADMIN_EMAIL,
      password: env.ADMIN_PASSWORD,
      createDevelopmentAdmin: !production && env.ADMIN_EMAIL === undefined,
    },
  };
}
