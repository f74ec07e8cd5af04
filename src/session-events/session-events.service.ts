import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { createHmac } from 'node:crypto';
import { RequestContext, storedUserAgent } from '../common/context/request-context';
import type { AppConfiguration } from '../config/configuration';
import { LockoutCounter, MetricsService, RevokedBy, SecondFactorMethod } from '../metrics/metrics.service';
import type { DeviceSignals } from '../devices/device-binding';
import type { Ending, ExpiryReason } from './ending';
import { endingEventId, SESSION_EVENT_RETENTION_MS, SessionEvent, SessionEventType } from './session-event.schema';
import { SessionEventsRepository } from './session-events.repository';
import { sessionLogReference } from '../common/logging/session-log-reference';
import { bucketsOf } from './time-buckets';
import type { AccountEvent } from '../users/user-changes';

/** A session as events need it: its public id, owner and age. */
export interface EndedSession {
  id: string;
  userId: string;
  createdAt?: Date;
  /** When it ended, when that was not now (the deadline a background pass found passed). */
  endedAt?: Date;
}

export type LoginFailure = 'invalid_credentials' | 'disabled';

/** A failed sign-in: what was typed, and the account it named if there is one. */
export interface FailedAttempt {
  email: string;
  user?: { id: string; email: string } | null;
}

/**
 * Every session event, recorded three ways: a log line, a metric, and a
 * document in `session_events` (kept 90 days). The client's address, user
 * agent and correlation id come from the request context (empty outside a
 * request). Recording never fails the work it belongs to: a failed insert is
 * logged and the caller goes on.
 */
@Injectable()
export class SessionEventsService {
  private readonly emailHashKey: string;

  constructor(
    private readonly repository: SessionEventsRepository,
    @InjectPinoLogger(SessionEventsService.name) private readonly logger: PinoLogger,
    private readonly metrics: MetricsService,
    config: ConfigService<AppConfiguration, true>,
  ) {
    // Own key derived from the signing secret: one secret, one purpose.
    const [secret] = config.get('session', { infer: true }).secrets;
    this.emailHashKey = createHmac('sha256', secret).update('failed-sign-in-email').digest('hex');
  }

  created(session: EndedSession): void {
    this.logger.info({ event: 'session.created', session: sessionLogReference(session.id), userId: session.userId }, 'session created');
  }

  /** `reason` says which path the sign-in took: a browser with this account's device cookie, or not. */
  async loginSucceeded(user: { id: string; email: string }, sessionId: string, trustedDevice: boolean): Promise<void> {
    this.metrics.signIn('success');
    await this.record('login.succeeded', {
      userId: user.id,
      email: user.email,
      sessionId,
      reason: trustedDevice ? 'trusted_device' : 'new_device',
    });
  }

  /** A sign-in from a browser without this account's device cookie; the dashboard shows the latest. */
  async newDevice(user: { id: string; email: string }, sessionId: string, device: { browser: string; os: string }): Promise<void> {
    await this.record('login.new_device', { userId: user.id, email: user.email, sessionId, reason: `${device.browser} on ${device.os}` });
  }

  async reauthenticated(user: { id: string; email: string }, sessionId: string): Promise<void> {
    await this.record('reauth.succeeded', { userId: user.id, email: user.email, sessionId });
  }

  /** A second factor proven; `reason`: where (`sign_in`, `reauth`); `sessionId`: the session it completed or proved again. */
  async secondFactorSucceeded(
    user: { id: string; email: string },
    method: SecondFactorMethod,
    reason: string,
    sessionId: string,
  ): Promise<void> {
    this.metrics.secondFactor(method, 'success');
    await this.record('mfa.succeeded', { userId: user.id, email: user.email, method, reason, sessionId });
  }

  /** A wrong, reused or unknown code; `reason`: where it was typed (`sign_in`, `reauth`, `enrolment`). */
  async secondFactorFailed(user: { id: string; email: string }, method: SecondFactorMethod, reason: string): Promise<void> {
    this.metrics.secondFactor(method, 'failure');
    await this.record('mfa.failed', { userId: user.id, email: user.email, method, reason });
  }

  /** A recovery code spent, and how many the account has left. */
  async recoveryCodeUsed(user: { id: string; email: string }, left: number): Promise<void> {
    this.logger.warn({ event: 'mfa.recovery_used', userId: user.id, left }, 'recovery code used');
    await this.record('mfa.recovery_used', { userId: user.id, email: user.email, method: 'recovery', left });
  }

  async factorEnrolled(user: { id: string; email: string }, method: SecondFactorMethod): Promise<void> {
    await this.record('mfa.enrolled', { userId: user.id, email: user.email, method });
  }

  async factorRemoved(user: { id: string; email: string }, method: SecondFactorMethod): Promise<void> {
    await this.record('mfa.removed', { userId: user.id, email: user.email, method });
  }

  /** Emergency sign-out: a summary with the count and who did it (each session ended was recorded as revoked). */
  async revokedAll(count: number, actor: { id: string; email: string }): Promise<void> {
    this.logger.info({ event: 'session.revoked_all', count, actorId: actor.id }, 'all sessions revoked');
    await this.record('session.revoked_all', { actorId: actor.id, email: actor.email, reason: `${count} sessions ended`, count });
  }

  /** The session goes on under a new id (re-authentication, password change): the old id is over, not the session. */
  async rotated(session: EndedSession, reason: string): Promise<void> {
    if (!(await this.record('session.rotated', { userId: session.userId, sessionId: session.id, reason }))) return;
    this.logger.info(
      { event: 'session.rotated', session: sessionLogReference(session.id), userId: session.userId, reason },
      'session rotated to a new id',
    );
  }

  /**
   * A session used from another device than it signed in with: both devices
   * are recorded (this request's user agent is the event's `userAgent`).
   */
  async anomaly(
    session: EndedSession,
    signedInWith: { userAgent: string; device: DeviceSignals },
    usedDevice: DeviceSignals,
  ): Promise<void> {
    const recorded = await this.record('session.anomaly', {
      userId: session.userId,
      sessionId: session.id,
      reason: 'device_changed',
      durationMs: ageOf(session),
      signedInUserAgent: storedUserAgent(signedInWith.userAgent),
      signedInDevice: signedInWith.device,
      usedDevice,
    });
    if (!recorded) return;
    this.metrics.revoked('system', ageOf(session));
    this.logger.warn(
      {
        event: 'session.anomaly',
        session: sessionLogReference(session.id),
        userId: session.userId,
        signedInDevice: signedInWith.device,
        usedDevice,
      },
      'session used from another device: ended',
    );
  }

  /**
   * No password, hashed or not, ever goes into an event, and neither does typed
   * text that names no account (people type passwords into the email box): a
   * known account is recorded by its id and address, an unknown one by a keyed
   * hash of what was typed, which still groups repeated attempts.
   */
  async loginFailed(attempt: FailedAttempt, reason: LoginFailure): Promise<void> {
    this.metrics.signIn(reason === 'invalid_credentials' ? 'failure' : reason);
    await this.record('login.failed', { ...this.who(attempt), reason });
  }

  /**
   * A sign-in refused by a lock (429): counted, never recorded one by one, so
   * a flood at a locked account writes nothing (loginLocked records the lock).
   */
  loginRefused(counter: LockoutCounter): void {
    this.metrics.signIn('locked');
    this.metrics.loginRefused(counter);
  }

  /**
   * A lock, recorded once however many attempts it refuses (LoginThrottleService
   * calls this for the one refusal that marked the lock's counter). `account`
   * names who an account's or a known browser's lock is about, as loginFailed
   * does; an IP's lock is about the address, which every event carries.
   */
  async loginLocked(counter: LockoutCounter, account?: FailedAttempt): Promise<void> {
    this.logger.warn({ event: 'login.locked', counter, userId: account?.user?.id }, 'sign-ins locked');
    await this.record('login.locked', { ...(account ? this.who(account) : {}), reason: counter });
  }

  /** MongoDB was unreachable during a sign-in: an outage, not a lock (and no event can be written). */
  signInUnavailable(): void {
    this.metrics.signIn('unavailable');
    this.logger.warn({ event: 'login.unavailable' }, 'sign-in refused: MongoDB is unavailable');
  }

  /** Records one session's end as `ending` says (SessionsService.endOnce, or the expiry pass for an ender that died). */
  ended(session: EndedSession, ending: Ending): Promise<void> {
    switch (ending.event) {
      case 'logout':
        return this.logout(session);
      case 'session.rotated':
        return this.rotated(session, ending.reason);
      case 'session.revoked':
        return this.revoked(session, ending.by, ending.actorId, ending.reason);
      case 'session.anomaly':
        return this.anomaly(session, ending.signedInWith, ending.usedDevice);
      case 'session.expired':
        return this.expired(session, ending.reason);
    }
  }

  async logout(session: EndedSession): Promise<void> {
    if (!(await this.record('logout', { userId: session.userId, sessionId: session.id, durationMs: ageOf(session) }))) return;
    this.metrics.logout(ageOf(session));
    this.logger.info({ event: 'session.destroyed', session: sessionLogReference(session.id), userId: session.userId }, 'session destroyed');
  }

  async expired(session: EndedSession, reason: ExpiryReason): Promise<void> {
    await this.expiredMany([session], reason);
  }

  /** Sessions the expiry pass ended together: their events in one insert, one log line and metric each. */
  async expiredMany(sessions: EndedSession[], reason: ExpiryReason): Promise<void> {
    const recorded = await this.recordMany(
      'session.expired',
      sessions.map((session) => ({ userId: session.userId, sessionId: session.id, reason, durationMs: ageOf(session) })),
    );
    for (const session of recorded.map((position) => sessions[position])) {
      this.metrics.expired(reason, ageOf(session));
      this.logger.info(
        { event: 'session.expired', session: sessionLogReference(session.id), userId: session.userId, reason },
        'session expired',
      );
    }
  }

  /** `reason` says why: the owner or an admin ended it, or the account changed. */
  async revoked(session: EndedSession, by: RevokedBy, actorId: string | undefined, reason: string): Promise<void> {
    const recorded = await this.record('session.revoked', {
      userId: session.userId,
      sessionId: session.id,
      actorId,
      reason,
      by,
      durationMs: ageOf(session),
    });
    if (!recorded) return;
    this.metrics.revoked(by, ageOf(session));
    this.logger.info(
      { event: 'session.destroyed', session: sessionLogReference(session.id), userId: session.userId, by, reason },
      'session revoked',
    );
  }

  /**
   * An admin's changes of an account (disabled, enabled, role changed,
   * factors reset), at the time and from the client of the change, each under
   * its key: so one recorded before (the expiry pass finishing a change whose
   * request failed after recording it) stays one. Unlike the other events, a
   * failed insert throws: the account keeps them until they are recorded.
   */
  async accountChanged(events: AccountEvent[]): Promise<void> {
    const documents = events.map(({ key, at, ...fields }) => {
      const time = new Date(at);
      return { _id: key, ...fields, at: time, ...bucketsOf(time), expiresAt: new Date(time.getTime() + SESSION_EVENT_RETENTION_MS) };
    });
    const before = await this.repository.insert(documents);
    events.forEach((event, position) => {
      if (!before.has(position)) this.metrics.sessionEvent(event.type, 1);
    });
  }

  /** A known account by its id and address; typed text that names none by a keyed hash. */
  private who(attempt: FailedAttempt): Pick<SessionEvent, 'userId' | 'email' | 'emailHash'> {
    return attempt.user
      ? { userId: attempt.user.id, email: attempt.user.email }
      : { emailHash: createHmac('sha256', this.emailHashKey).update(attempt.email.trim().toLowerCase()).digest('hex') };
  }

  /** False when this session's end was recorded already (by the expiry pass that took over a slow ender's mark, or the other way round). */
  private async record(type: SessionEventType, fields: Partial<SessionEvent>): Promise<boolean> {
    return (await this.recordMany(type, [fields])).length === 1;
  }

  /**
   * Records one event per entry of `each`; returns the positions of those that
   * were not recorded before, so that an end recorded twice is logged and
   * counted once. A write that fails counts every entry as new: the end
   * happened, and the failure is logged (a batch whose failure is not only
   * duplicates may so count a duplicate again). A recorder that dies between
   * its insert and its count leaves that end uncounted.
   */
  private async recordMany(type: SessionEventType, each: Partial<SessionEvent>[]): Promise<number[]> {
    if (each.length === 0) return [];
    const at = new Date();
    const common = {
      type,
      ...RequestContext.client(),
      at,
      ...bucketsOf(at),
      expiresAt: new Date(at.getTime() + SESSION_EVENT_RETENTION_MS),
    };
    let before = new Set<number>();
    try {
      before = await this.repository.insert(
        each.map((fields) => ({
          ...(endsASession(type) && fields.sessionId ? { _id: endingEventId(fields.sessionId) } : {}),
          ...fields,
          ...common,
        })),
      );
    } catch (error) {
      this.logger.warn({ err: error, type }, 'could not record a session event');
    }
    const recorded = each.map((_, position) => position).filter((position) => !before.has(position));
    if (recorded.length > 0) this.metrics.sessionEvent(type, recorded.length);
    return recorded;
  }
}

const ENDING_EVENTS: readonly SessionEventType[] = [
  'logout',
  'session.rotated',
  'session.revoked',
  'session.anomaly',
  'session.expired',
] satisfies Ending['event'][];

function endsASession(type: SessionEventType): boolean {
  return ENDING_EVENTS.includes(type);
}

function ageOf(session: EndedSession): number | undefined {
  return session.createdAt ? (session.endedAt?.getTime() ?? Date.now()) - new Date(session.createdAt).getTime() : undefined;
}
