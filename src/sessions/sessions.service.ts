import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { CookieOptions, Request, Response } from 'express';
import type { Session, SessionData } from 'express-session';
import { promisify } from 'node:util';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-codes';
import type { AppConfiguration } from '../config/configuration';
import type { RevokedBy } from '../metrics/metrics.service';
import type { AuthenticatedUser } from '../users/authenticated-user';
import { UsersService } from '../users/users.service';
import type { ActiveSession } from './auth-state';
import { ActivityWrites } from './activity-writes';
import { HashedMongoStore } from './hashed-mongo-store';
import { ACTIVITY_WRITES_REMEMBERED, SESSION_STORE } from './session.constants';
import type { SessionDocument, StoredSession } from './session-document';
import { EndedSession, SessionEventsService } from './session-events.service';
import { ExpiryReason, SessionExpiryPolicy, SessionTimestamps } from './session-expiry-policy';
import { sessionStorageId } from './session-id';
import { deviceFamily } from './user-agent';
import { SessionsRepository } from './sessions.repository';

export interface SessionView {
  createdAt: string;
  lastActivityAt: string;
  idleExpiresAt: string;
  absoluteExpiresAt: string;
}

export interface Revoker {
  by: RevokedBy;
  actorId?: string;
  /** Why, for the event log: `user`, `admin`, `user.disabled`, `role_changed`… */
  reason: string;
}

type LoadedSession = Session & Partial<SessionData>;

/** A response at or above this status is a failure: it does not count as activity. */
const FIRST_ERROR_STATUS = 400;

/**
 * A session's life: start at sign-in, activity, end by sign-out, expiry or
 * revocation. Only start, rotate, sign-out and activity take the request
 * (they work on its express-session); everything else takes plain values, so
 * it runs the same from a job, the CLI or a test. Each end is recorded once:
 * by whoever's delete removed the document.
 */
@Injectable()
export class SessionsService {
  private readonly logger = new Logger(SessionsService.name);
  readonly cookieName: string;
  readonly cookieOptions: CookieOptions;
  private readonly maxPerUser: number;
  private readonly activityWrites: ActivityWrites;

  constructor(
    @Inject(SESSION_STORE) private readonly store: HashedMongoStore,
    private readonly repository: SessionsRepository,
    private readonly policy: SessionExpiryPolicy,
    private readonly events: SessionEventsService,
    private readonly users: UsersService,
    config: ConfigService<AppConfiguration, true>,
  ) {
    const session = config.get('session', { infer: true });
    this.cookieName = session.cookieName;
    this.activityWrites = new ActivityWrites(policy.activityWriteIntervalMs, ACTIVITY_WRITES_REMEMBERED);
    this.maxPerUser = session.maxPerUser;
    // No maxAge: a browser-session cookie. The server enforces both deadlines and
    // the cookie must outlive them, or an expired session could not say why it ended.
    this.cookieOptions = { httpOnly: true, sameSite: 'lax', secure: session.cookieSecure, path: '/' };
  }

  /** The public id of the request's session: a hash, safe to show and to accept back. */
  static currentId(req: Request): string {
    return sessionStorageId(req.sessionID);
  }

  /**
   * Sign-in: a fresh session id for this user (no fixation); the previous
   * session, if any, is gone. Beyond SESSION_MAX_PER_USER, the user's least
   * recently active sessions end first. `trustedDevice`: the browser showed a
   * device cookie of this account; without one the sign-in is a new device.
   */
  async start(req: Request, user: AuthenticatedUser, { trustedDevice }: { trustedDevice: boolean }): Promise<void> {
    const endedAtSignIn = await this.makeRoomFor(user.id);
    await promisify(this.store.regenerate.bind(this.store))(req);
    const now = new Date();
    const userAgent = req.get('user-agent') ?? '';
    Object.assign(req.session, {
      userId: user.id,
      email: user.email,
      name: user.name,
      role: user.role,
      createdAt: now,
      lastActivityAt: now,
      authenticatedAt: now,
      ip: req.ip ?? '',
      userAgent,
      device: deviceFamily(userAgent),
      ...(endedAtSignIn > 0 ? { endedAtSignIn } : {}),
    } satisfies Omit<SessionData, 'cookie'>);
    await this.store.insert(req.sessionID, req.session as StoredSession);
    const id = SessionsService.currentId(req);
    await this.assertAccountUnchanged(user, id);
    this.events.created({ id, userId: user.id });
    await this.events.loginSucceeded(user, id, trustedDevice);
    if (!trustedDevice) await this.events.newDevice(user, id, deviceFamily(userAgent));
  }

  /** The password was proved again (re-authentication): sensitive actions are open for REAUTH_MINUTES. */
  async reauthenticated(req: Request, user: AuthenticatedUser): Promise<void> {
    const at = new Date();
    const id = SessionsService.currentId(req);
    await this.repository.setAuthenticatedAt(id, at);
    (req.session as StoredSession).authenticatedAt = at;
    await this.events.reauthenticated(user, id);
  }

  /** Emergency sign-out: every session but the caller's ends at once; one event says how many and who. */
  async revokeAllExcept(currentId: string, actor: AuthenticatedUser): Promise<number> {
    const ended = await this.repository.deleteAllExcept(currentId);
    await this.events.revokedAll(ended, actor);
    return ended;
  }

  /** The session was used from another browser family or OS: it ends at once, recorded with both agents. */
  async endForDeviceChange(session: EndedSession, signedInWith: string): Promise<void> {
    if (await this.repository.deleteById(session.id)) await this.events.anomaly(session, signedInWith);
  }

  /** Ends the user's least recently active sessions so one more fits under SESSION_MAX_PER_USER; how many ended. */
  private async makeRoomFor(userId: string): Promise<number> {
    if (this.maxPerUser === 0) return 0;
    const active = await this.repository.findActiveOfUser(userId);
    const excess = active.length - (this.maxPerUser - 1);
    if (excess <= 0) return 0;
    const oldestFirst = active.sort((a, b) => new Date(a.session.lastActivityAt).getTime() - new Date(b.session.lastActivityAt).getTime());
    let ended = 0;
    for (const document of oldestFirst.slice(0, excess)) {
      if (await this.revoke(document._id, { by: 'system', reason: 'limit' })) ended++;
    }
    return ended;
  }

  /**
   * The session carries the user's role and requests do not re-read the
   * account, so an admin who disables the account or changes its role while
   * this sign-in is under way must not miss the new session: their revocation
   * either ran after the insert (and deleted it) or the account read here,
   * after the insert, shows the change.
   */
  private async assertAccountUnchanged(user: AuthenticatedUser, id: string): Promise<void> {
    const now = await this.users.findById(user.id);
    if (now && !now.disabled && now.role === user.role) return;
    await this.repository.deleteById(id);
    throw new AppException(now?.disabled ? ErrorCode.ACCOUNT_DISABLED : ErrorCode.SESSION_INVALID);
  }

  /**
   * The same session under a new id and cookie, after a credential change: the
   * old cookie is refused from now on. Sign-in time and absolute deadline stay.
   */
  async rotate(req: Request): Promise<void> {
    const { userId, email, name, role, createdAt, authenticatedAt, ip, userAgent, device } = req.session as StoredSession;
    await promisify(this.store.regenerate.bind(this.store))(req);
    Object.assign(req.session, {
      userId,
      email,
      name,
      role,
      createdAt,
      lastActivityAt: new Date(),
      authenticatedAt,
      ip,
      userAgent,
      device,
    } satisfies Omit<SessionData, 'cookie'>);
    await this.store.insert(req.sessionID, req.session as StoredSession);
  }

  /** Sign-out: deletes the request's session server-side; the cookie is the caller's to clear. */
  async end(req: Request): Promise<void> {
    const session = req.session as LoadedSession | undefined;
    const ended = session?.userId
      ? { id: SessionsService.currentId(req), userId: session.userId, createdAt: session.createdAt }
      : undefined;
    // A session that could not be loaded (MongoDB down) is deleted by id, which fails while it is down.
    if (!ended && req.auth?.state !== 'unverified') return;
    forget(req);
    const deleted = await this.repository.deleteById(ended?.id ?? SessionsService.currentId(req));
    if (ended && deleted) await this.events.logout(ended);
  }

  /**
   * A request found the session past a deadline: deleted, so it can never come
   * back; true when this call ended it. The end is recorded by the one delete
   * that removed an unrecorded session: not when the expiry pass recorded it
   * already (`recordedByPass`), nor by the losers among parallel requests.
   */
  async expire(session: EndedSession, reason: ExpiryReason, recordedByPass = false): Promise<boolean> {
    if (recordedByPass) {
      await this.repository.deleteById(session.id);
      return false;
    }
    const endedHere = await this.repository.deleteUnlessEnded(session.id);
    if (endedHere) await this.events.expired(session, reason);
    return endedHere;
  }

  /**
   * The expiry pass: the session is marked ended (and recorded) while it is
   * still past its deadline, so a request that just recorded activity is not
   * cut off. It is not deleted: the owner's next request still learns why it
   * ended (AUTH_1002 with the reason) and deletes it; the TTL index or the
   * sweep removes the rest a day later.
   */
  async endPastDeadline(session: EndedSession, reason: ExpiryReason): Promise<boolean> {
    const marked = await this.repository.markEnded(session.id, reason);
    if (marked) await this.events.expired(session, reason);
    return marked;
  }

  /** The account behind the session is gone or disabled. */
  async discard(session: EndedSession): Promise<void> {
    if (await this.repository.deleteById(session.id)) await this.events.revoked(session, 'system', undefined, 'account_unavailable');
  }

  /** Ends one session by public id; false when there is no such active session (of `ownerId`, when given). */
  async revoke(id: string, revoker: Revoker, ownerId?: string): Promise<boolean> {
    const document = await this.repository.findById(id);
    if (!document || (ownerId !== undefined && document.session.userId !== ownerId)) return false;
    if (!(await this.repository.deleteById(id))) return false;
    await this.events.revoked(toEnded(document), revoker.by, revoker.actorId, revoker.reason);
    return true;
  }

  /** Ends every session of a user except `exceptId`; returns how many ended (each recorded once). */
  async revokeAllOfUser(userId: string, revoker: Revoker, exceptId?: string): Promise<number> {
    const documents = await this.repository.findActiveOfUser(userId, exceptId);
    const ended = await Promise.all(
      documents.map(async (document) => ((await this.repository.deleteById(document._id)) ? document : undefined)),
    );
    const deleted = ended.filter((document) => document !== undefined);
    for (const document of deleted) {
      await this.events.revoked(toEnded(document), revoker.by, revoker.actorId, revoker.reason);
    }
    return deleted.length;
  }

  clearCookie(res: Response): void {
    res.clearCookie(this.cookieName, this.cookieOptions);
  }

  /** The request counts as activity once its response is sent, if it succeeded (below 400). */
  countActivityIfSuccessful(req: Request, res: Response): void {
    res.once('finish', () => {
      if (res.statusCode < FIRST_ERROR_STATUS) void this.recordActivity(req);
    });
  }

  /**
   * Counts the request as activity, writing at most once per write interval
   * (also when a burst of requests loaded the session before the write)
   * unless forced ("stay signed in"). A session ended meanwhile stays ended,
   * and a failed write is logged, never shown to the user.
   */
  async recordActivity(req: Request, options: { force?: boolean } = {}): Promise<ActiveSession | undefined> {
    const session = req.session as LoadedSession | undefined;
    if (!session?.userId || !session.createdAt || !session.lastActivityAt) return undefined;
    const now = new Date();
    const timestamps = { createdAt: session.createdAt, lastActivityAt: session.lastActivityAt };
    if (!options.force && !this.policy.shouldRecordActivity(timestamps, now)) return undefined;
    const id = SessionsService.currentId(req);
    if (!this.activityWrites.claim(id, now.getTime()) && !options.force) return undefined;
    try {
      await this.repository.recordActivity(id, session.createdAt, now);
      session.lastActivityAt = now;
    } catch (error) {
      this.activityWrites.release(id, now.getTime());
      if (options.force) throw error;
      this.logger.warn(`Could not record session activity: ${(error as Error).message}`);
    }
    return this.describe(id, session as SessionTimestamps);
  }

  describe(id: string, timestamps: SessionTimestamps & { authenticatedAt?: Date; endedAtSignIn?: number }): ActiveSession {
    const { createdAt, lastActivityAt } = timestamps;
    return {
      id,
      createdAt,
      lastActivityAt,
      // Sessions stored before this was kept count as proved at sign-in.
      authenticatedAt: timestamps.authenticatedAt ?? createdAt,
      endedAtSignIn: timestamps.endedAtSignIn ?? 0,
      ...this.policy.deadlines({ createdAt, lastActivityAt }),
    };
  }

  static toView(session: ActiveSession): SessionView {
    return {
      createdAt: session.createdAt.toISOString(),
      lastActivityAt: session.lastActivityAt.toISOString(),
      idleExpiresAt: session.idleExpiresAt.toISOString(),
      absoluteExpiresAt: session.absoluteExpiresAt.toISOString(),
    };
  }
}

/** The request no longer has a session: express-session has nothing left to save, touch or delete. */
export function forget(req: Request): void {
  delete (req as Partial<Request>).session;
}

function toEnded(document: SessionDocument): EndedSession {
  return { id: document._id, userId: document.session.userId, createdAt: document.session.createdAt };
}
