import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Session lengths run from seconds to the 160-minute lifetime. */
const SESSION_DURATION_BUCKETS_S = [10, 60, 300, 900, 1800, 3600, 5400, 7200, 9600, 14400];
const HTTP_DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** One argon2id hash takes tens of milliseconds at OWASP's cost, longer when the CPU is short. */
const HASH_DURATION_BUCKETS_S = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** A background pass takes milliseconds when little is due, seconds for a mass expiry. */
const PASS_DURATION_BUCKETS_S = [0.01, 0.05, 0.25, 1, 5, 15, 60];

export type SignInResult = 'success' | 'failure' | 'locked' | 'disabled' | 'unavailable';
export type RevokedBy = 'user' | 'admin' | 'system';
/** The lockout counter that refused a sign-in: the account's, the client IP's, or a known browser's. */
export type LockoutCounter = 'account' | 'ip' | 'device';
/** How a second factor was proven: an authenticator-app code, a recovery code (passkeys will add theirs). */
export type SecondFactorMethod = 'totp' | 'recovery' | 'passkey';
export type SecondFactorResult = 'success' | 'failure';

/**
 * Prometheus metrics of one app instance (its own registry, so several apps
 * can live in one process, as in the tests).
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  private readonly signIns = new Counter({
    name: 'auth_sign_ins_total',
    help: 'Sign-in attempts by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  private readonly refusals = new Counter({
    name: 'login_refused_total',
    help: 'Sign-in attempts refused by a lock (429 AUTH_1006), by the counter that refused them',
    labelNames: ['counter'] as const,
    registers: [this.registry],
  });
  private readonly secondFactors = new Counter({
    name: 'auth_second_factor_total',
    help: 'Second-factor checks (sign-in, re-authentication, enrolment) by method and result',
    labelNames: ['method', 'result'] as const,
    registers: [this.registry],
  });
  private readonly logouts = new Counter({ name: 'auth_logouts_total', help: 'Sign-outs', registers: [this.registry] });
  private readonly expiries = new Counter({
    name: 'sessions_expired_total',
    help: 'Sessions ended by a deadline, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  private readonly revocations = new Counter({
    name: 'sessions_revoked_total',
    help: 'Sessions ended by someone other than their sign-out, by who ended them',
    labelNames: ['by'] as const,
    registers: [this.registry],
  });
  private readonly sessionDuration = new Histogram({
    name: 'session_duration_seconds',
    help: 'How long sessions lasted, from sign-in to their end',
    buckets: SESSION_DURATION_BUCKETS_S,
    registers: [this.registry],
  });
  private readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: HTTP_DURATION_BUCKETS_S,
    registers: [this.registry],
  });
  private readonly preflights = new Counter({
    name: 'cors_preflight_requests_total',
    help: 'CORS preflight requests, by whether the origin is allowed',
    labelNames: ['allowed'] as const,
    registers: [this.registry],
  });
  private readonly sessionEvents = new Counter({
    name: 'session_events_total',
    help: 'Events recorded in session_events, by type',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });

  private readonly databaseCommands = new Counter({
    name: 'mongodb_commands_total',
    help: 'Commands sent to MongoDB, by command name',
    labelNames: ['command'] as const,
    registers: [this.registry],
  });

  private readonly signInQueue = new Gauge({
    name: 'sign_in_queue_depth',
    help: 'Password checks admitted and not hashing yet (at most SIGN_IN_QUEUE_MAX + PASSWORD_HASH_CONCURRENCY)',
    registers: [this.registry],
  });

  private readonly hashDuration = new Histogram({
    name: 'password_hash_duration_seconds',
    help: 'Time of one password hash or verification, once it had a slot',
    buckets: HASH_DURATION_BUCKETS_S,
    registers: [this.registry],
  });

  private readonly shed = new Counter({
    name: 'sign_ins_shed_total',
    help: 'Password checks refused at once with 503 SYS_9003 because the hash queue was full',
    registers: [this.registry],
  });

  private readonly passDuration = new Histogram({
    name: 'background_pass_duration_seconds',
    help: 'Time of one background pass, by pass',
    labelNames: ['pass'] as const,
    buckets: PASS_DURATION_BUCKETS_S,
    registers: [this.registry],
  });

  private readonly passBacklog = new Gauge({
    name: 'background_pass_backlog',
    help: 'Documents the last background pass found due (sessions past a deadline, expired documents swept), by pass',
    labelNames: ['pass'] as const,
    registers: [this.registry],
  });

  /**
   * What the password hash queue reports (src/users/password-hash-queue.ts).
   * Typed here, not with the queue's interface, so metrics imports nothing
   * of users; users checks the fit where it hands this to its queue.
   */
  readonly passwordHashing = {
    waiting: (count: number) => this.signInQueue.set(count),
    hashed: (ms: number) => this.hashDuration.observe(ms / 1000),
    shed: () => this.shed.inc(),
  };

  readonly activeSessions = new Gauge({
    name: 'sessions_active',
    help: 'Sessions whose deadlines have not passed (refreshed periodically, not per scrape)',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  signIn(result: SignInResult): void {
    this.signIns.inc({ result });
  }

  loginRefused(counter: LockoutCounter): void {
    this.refusals.inc({ counter });
  }

  secondFactor(method: SecondFactorMethod, result: SecondFactorResult): void {
    this.secondFactors.inc({ method, result });
  }

  logout(durationMs?: number): void {
    this.logouts.inc();
    this.sessionEnded(durationMs);
  }

  expired(reason: string, durationMs?: number): void {
    this.expiries.inc({ reason });
    this.sessionEnded(durationMs);
  }

  revoked(by: RevokedBy, durationMs?: number): void {
    this.revocations.inc({ by });
    this.sessionEnded(durationMs);
  }

  httpRequest(method: string, route: string, status: number, durationMs: number): void {
    this.httpDuration.observe({ method, route, status: String(status) }, durationMs / 1000);
  }

  sessionEvent(type: string, count = 1): void {
    this.sessionEvents.inc({ type }, count);
  }

  databaseCommand(command: string): void {
    this.databaseCommands.inc({ command });
  }

  preflight(allowed: boolean): void {
    this.preflights.inc({ allowed: String(allowed) });
  }

  /** A background pass finished: how long it took and how many documents it found due. */
  backgroundPass(pass: string, durationMs: number, due: number): void {
    this.passDuration.observe({ pass }, durationMs / 1000);
    this.passBacklog.set({ pass }, due);
  }

  private sessionEnded(durationMs?: number): void {
    if (durationMs !== undefined) this.sessionDuration.observe(durationMs / 1000);
  }
}
