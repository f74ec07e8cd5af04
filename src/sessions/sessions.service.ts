import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { CookieOptions, Request, Response } from 'express';
import type { Session, SessionData } from 'express-session';
import { promisify } from 'node:util';
import type { AppConfiguration } from '../config/configuration';
import type { ActiveSession, AuthenticatedUser } from './auth-state';
import { HashedMongoStore } from './hashed-mongo-store';
import { SESSION_STORE } from './session.constants';
import { SessionEventsService } from './session-events.service';
import { ExpiryReason, SessionExpiryPolicy } from './session-expiry-policy';

export interface SessionView {
  createdAt: string;
  lastActivityAt: string;
  idleExpiresAt: string;
  absoluteExpiresAt: string;
}

type LoadedSession = Session & Partial<SessionData>;

/** A session's life: start at sign-in, activity, end at sign-out or expiry. */
@Injectable()
export class SessionsService {
  private readonly logger = new Logger(SessionsService.name);
  readonly cookieName: string;
  readonly cookieOptions: CookieOptions;

  constructor(
    @Inject(SESSION_STORE) private readonly store: HashedMongoStore,
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

  /** A fresh session id for this user (no fixation); the previous session, if any, is gone. */
  async start(req: Request, user: AuthenticatedUser): Promise<void> {
    await promisify(req.session.regenerate.bind(req.session))();
    const now = new Date();
    Object.assign(req.session, {
      userId: user.id,
      createdAt: now,
      lastActivityAt: now,
      ip: req.ip ?? '',
      userAgent: req.get('user-agent') ?? '',
    } satisfies Omit<SessionData, 'cookie'>);
    await this.store.insert(req.sessionID, req.session as Session & SessionData);
    this.events.created(req.sessionID, user.id);
  }

  /** Deletes the request's session server-side; the cookie is the caller's to clear. */
  async end(req: Request, cause: 'logout' | 'invalid'): Promise<void> {
    const session = req.session as LoadedSession | undefined;
    if (!session?.userId) return;
    const token = req.sessionID;
    await promisify(session.destroy.bind(session))();
    this.events.destroyed(token, session.userId, cause);
  }

  async expire(req: Request, reason: ExpiryReason): Promise<void> {
    const session = req.session as LoadedSession;
    const token = req.sessionID;
    await promisify(session.destroy.bind(session))();
    this.events.expired(token, session.userId ?? '', reason);
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
}
