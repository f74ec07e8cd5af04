import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { CookieOptions, Request, Response } from 'express';
import type { Session, SessionData } from 'express-session';
import { promisify } from 'node:util';
import type { AppConfiguration } from '../config/configuration';
import type { RevokedBy } from '../metrics/metrics.service';
import type { ActiveSession, AuthenticatedUser } from './auth-state';
import { HashedMongoStore, SessionDocument } from './hashed-mongo-store';
import { SESSION_STORE } from './session.constants';
import { EndedSession, SessionEventsService } from './session-events.service';
import { ExpiryReason, SessionExpiryPolicy } from './session-expiry-policy';
import { sessionStorageId } from './session-id';
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

/** A session's life: start at sign-in, activity, end by sign-out, expiry or revocation. */
@Injectable()
export class SessionsService {
  private readonly logger = new Logger(SessionsService.name);
  readonly cookieName: string;
  readonly cookieOptions: CookieOptions;

  constructor(
    @Inject(SESSION_STORE) private readonly store: HashedMongoStore,
    private readonly repository: SessionsRepository,
    private readonly policy: SessionExpiryPolicy,
    private readonly events: SessionEventsService,
    config: ConfigService<AppConfiguration, true>,
  ) {
    const session = config.get('session', { infer: true });
    this.cookieName = session.cookieName;
    // No maxAge: a browser-session cookie. The server enforces both deadlines and
    // the cookie must outlive them, or an expired session could not say why it ended.
    this.cookieOptions = { httpOnly: true, sameSite: 'lax', secure: session.cookieSecure, path: '/' };
  }

  /** The public id of the request's session: a hash, safe to show and to accept back. */
  static currentId(req: Request): string {
    return sessionStorageId(req.sessionID);
  }

  /** A fresh session id for this user (no fixation); the previous session, if any, is gone. */
  async start(req: Request, user: AuthenticatedUser): Promise<void> {
    await promisify(this.store.regenerate.bind(this.store))(req);
    const now = new Date();
    Object.assign(req.session, {
      userId: user.id,
      createdAt: now,
      lastActivityAt: now,
      ip: req.ip ?? '',
      userAgent: req.get('user-agent') ?? '',
    } satisfies Omit<SessionData, 'cookie'>);
    await this.store.insert(req.sessionID, req.session as Session & SessionData);
    this.events.created({ id: SessionsService.currentId(req), userId: user.id });
  }

  /**
   * The same session under a new id and cookie, after a credential change: the
   * old cookie is refused from now on. Sign-in time and absolute deadline stay.
   */
  async rotate(req: Request): Promise<void> {
    const { userId, createdAt, ip, userAgent } = req.session as Session & SessionData;
    await promisify(this.store.regenerate.bind(this.store))(req);
    Object.assign(req.session, { userId, createdAt, lastActivityAt: new Date(), ip, userAgent } satisfies Omit<SessionData, 'cookie'>);
    await this.store.insert(req.sessionID, req.session as Session & SessionData);
  }

  /** Sign-out: deletes the request's session server-side; the cookie is the caller's to clear. */
  async end(req: Request): Promise<void> {
    if (req.auth?.state === 'unverified') {
      // The session could not be loaded: delete it by id, which fails while MongoDB is down.
      await promisify(this.store.destroy.bind(this.store))(req.sessionID);
      return;
    }
    const ended = await this.destroyCurrent(req);
    if (ended) await this.events.logout(req, ended);
  }

  /** The session passed a deadline: it is deleted so it can never come back. */
  async expire(req: Request, reason: ExpiryReason): Promise<void> {
    const ended = await this.destroyCurrent(req);
    if (ended) await this.events.expired(req, ended, reason);
  }

  /** The account behind the session is gone or disabled. */
  async discard(req: Request): Promise<void> {
    const ended = await this.destroyCurrent(req);
    if (ended) await this.events.revoked(req, ended, 'system', undefined, 'account_unavailable');
  }

  /** Ends one session by public id; false when there is no such active session. */
  async revoke(req: Request, id: string, revoker: Revoker, ownerId?: string): Promise<boolean> {
    const document = await this.repository.findById(id);
    if (!document || (ownerId !== undefined && document.session.userId !== ownerId)) return false;
    if (!(await this.repository.deleteById(id))) return false;
    await this.events.revoked(req, toEnded(document), revoker.by, revoker.actorId, revoker.reason);
    return true;
  }

  /** Ends every session of a user except `exceptId`; returns how many ended (each recorded once). */
  async revokeAllOfUser(req: Request, userId: string, revoker: Revoker, exceptId?: string): Promise<number> {
    const documents = await this.repository.findActiveOfUser(userId, exceptId);
    const ended = await Promise.all(documents.map(async (document) => ((await this.repository.deleteById(document._id)) ? document : undefined)));
    const deleted = ended.filter((document) => document !== undefined);
    for (const document of deleted) {
      await this.events.revoked(req, toEnded(document), revoker.by, revoker.actorId, revoker.reason);
    }
    return deleted.length;
  }

  clearCookie(res: Response): void {
    res.clearCookie(this.cookieName, this.cookieOptions);
  }

  /**
   * Counts the request as activity, writing at most once per write interval
   * unless forced ("stay signed in"). A session ended meanwhile stays ended,
   * and a failed write is logged, never shown to the user.
   */
  async recordActivity(req: Request, options: { force?: boolean } = {}): Promise<ActiveSession | undefined> {
    const session = req.session as LoadedSession | undefined;
    if (!session?.userId || !session.createdAt || !session.lastActivityAt) return undefined;
    const now = new Date();
    const timestamps = { createdAt: session.createdAt, lastActivityAt: session.lastActivityAt };
    if (!options.force && !this.policy.shouldRecordActivity(timestamps, now)) return undefined;
    try {
      await this.store.recordActivity(req.sessionID, session as Session & SessionData, now);
      session.lastActivityAt = now;
    } catch (error) {
      if (options.force) throw error;
      this.logger.warn(`Could not record session activity: ${(error as Error).message}`);
    }
    return this.describe({ createdAt: session.createdAt, lastActivityAt: session.lastActivityAt });
  }

  describe(timestamps: { createdAt: Date; lastActivityAt: Date }): ActiveSession {
    return { ...timestamps, ...this.policy.deadlines(timestamps) };
  }

  static toView(session: ActiveSession): SessionView {
    return {
      createdAt: session.createdAt.toISOString(),
      lastActivityAt: session.lastActivityAt.toISOString(),
      idleExpiresAt: session.idleExpiresAt.toISOString(),
      absoluteExpiresAt: session.absoluteExpiresAt.toISOString(),
    };
  }

  /**
   * Deletes the request's session; the ended session only when this delete
   * removed it, so parallel requests on one session record its end once.
   */
  private async destroyCurrent(req: Request): Promise<EndedSession | undefined> {
    const session = req.session as LoadedSession | undefined;
    if (!session?.userId) return undefined;
    const ended = { id: SessionsService.currentId(req), userId: session.userId, createdAt: session.createdAt };
    const deleted = await this.repository.deleteById(ended.id);
    // Gone from the request too: express-session has nothing left to save, touch or delete again.
    delete (req as Partial<Request>).session;
    return deleted ? ended : undefined;
  }
}

function toEnded(document: SessionDocument): EndedSession {
  return { id: document._id, userId: document.session.userId, createdAt: document.session.createdAt };
}
