import { availableParallelism } from 'node:os';
import { hostOnlyCookieName } from './cookie-names';
import { developmentSessionSecret } from './local-state';
import { EnvironmentVariables } from './environment';
import type { UserRole } from './roles';
import { parseTrustProxy, TrustProxy } from './trust-proxy';

const SECOND_MS = 1_000;
const MINUTE_MS = 60 * SECOND_MS;
const DAY_MS = 24 * 60 * MINUTE_MS;
/**
 * Sign-ins that may wait per hash computed at once: a full queue drains in 8
 * hash times (well under a second at OWASP's argon2id cost), so no admitted
 * sign-in waits long, and a storm beyond that is refused at once (SYS_9003).
 */
const SIGN_IN_QUEUE_PER_HASH = 8;

export interface HttpConfig {
  port: number;
  trustProxy: TrustProxy;
  corsOrigins: string[];
  /** How long in-flight requests may run after SIGTERM before connections are cut. */
  shutdownDrainMs: number;
  /** Serve the OpenAPI page and document (/api/docs, /api/docs-json). */
  apiDocs: boolean;
}

export interface SessionConfig {
  /** The name the cookie carries: `__Host-` + SESSION_COOKIE_NAME with Secure cookies, SESSION_COOKIE_NAME otherwise. */
  cookieName: string;
  cookieSecure: boolean;
  /** First signs new cookies; all verify (rotation). */
  secrets: string[];
  inactivityMs: number;
  absoluteMs: number;
  /** Sessions per user; beyond it the least recently active end. 0: no limit. */
  maxPerUser: number;
  /** A request from another browser family or OS ends the session. */
  bindUserAgent: boolean;
  /** How often the app ends sessions past their deadlines itself, recording each once. */
  sweepMs: number;
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
  /** How recent a password proof sensitive actions need. */
  reauthMs: number;
  deviceCookieMs: number;
  /** Password hashes computed at once, and checks that may wait for one (beyond: 503 SYS_9003). */
  passwordHashConcurrency: number;
  signInQueueMax: number;
}

export interface SecondFactorConfig {
  /** Roles whose accounts must have a second factor before they reach anything else. */
  requiredRoles: UserRole[];
  /** The site's origin (PUBLIC_URL): what an authenticator app names, and the WebAuthn origin. */
  publicOrigin: string;
  /** The WebAuthn relying party id: the origin's host name. */
  relyingPartyId: string;
}

export interface AdminConfig {
  email?: string;
  password?: string;
  /** Outside production, create admin@localhost when no admin exists. */
  createDevelopmentAdmin: boolean;
  /** The IANA zone of every time the admin console shows. */
  timeZone: string;
}

export interface AppConfiguration {
  production: boolean;
  logLevel: string;
  http: HttpConfig;
  session: SessionConfig;
  database: DatabaseConfig;
  security: SecurityConfig;
  admin: AdminConfig;
  secondFactors: SecondFactorConfig;
}

/** Turns the validated environment into one typed object per concern. */
export function buildConfiguration(env: EnvironmentVariables): AppConfiguration {
  const production = env.NODE_ENV === 'production';
  const hashConcurrency = env.PASSWORD_HASH_CONCURRENCY ?? availableParallelism();
  const cookieSecure = env.COOKIE_SECURE ?? production;
  // Validation requires PUBLIC_URL in production.
  const publicOrigin = new URL(env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).origin;
  return {
    production,
    logLevel: env.LOG_LEVEL,
    http: {
      port: env.PORT,
      trustProxy: parseTrustProxy(env.TRUST_PROXY),
      corsOrigins: env.CORS_ORIGINS,
      shutdownDrainMs: env.SHUTDOWN_DRAIN_SECONDS * SECOND_MS,
      // A map of every route helps an attacker more than anyone using production: off there unless asked for.
      apiDocs: env.API_DOCS ?? !production,
    },
    session: {
      cookieName: hostOnlyCookieName(env.SESSION_COOKIE_NAME, cookieSecure),
      cookieSecure,
      // Only outside production (validation requires SESSION_SECRET there): kept across restarts.
      secrets: env.SESSION_SECRET ?? [developmentSessionSecret()],
      inactivityMs: env.SESSION_INACTIVITY_MINUTES * MINUTE_MS,
      absoluteMs: env.SESSION_EXPIRE_MINUTES * MINUTE_MS,
      maxPerUser: env.SESSION_MAX_PER_USER,
      bindUserAgent: env.SESSION_BIND_USER_AGENT,
      sweepMs: env.SESSION_SWEEP_SECONDS * SECOND_MS,
    },
    database: { uri: env.MONGODB_URI },
    security: {
      loginMaxFailures: env.LOGIN_MAX_FAILURES,
      loginMaxFailuresPerIp: env.LOGIN_MAX_FAILURES_PER_IP,
      loginLockMs: env.LOGIN_LOCK_MINUTES * MINUTE_MS,
      metricsToken: env.METRICS_TOKEN,
      reauthMs: env.REAUTH_MINUTES * MINUTE_MS,
      deviceCookieMs: env.DEVICE_COOKIE_DAYS * DAY_MS,
      passwordHashConcurrency: hashConcurrency,
      signInQueueMax: env.SIGN_IN_QUEUE_MAX ?? SIGN_IN_QUEUE_PER_HASH * hashConcurrency,
    },
    admin: {
      email: env.ADMIN_EMAIL,
      password: env.ADMIN_PASSWORD,
      createDevelopmentAdmin: !production && env.ADMIN_EMAIL === undefined,
      timeZone: env.ADMIN_TIME_ZONE,
    },
    secondFactors: {
      requiredRoles: env.MFA_REQUIRED_ROLES,
      publicOrigin,
      relyingPartyId: new URL(publicOrigin).hostname,
    },
  };
}
