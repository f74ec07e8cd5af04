import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { CookieOptions, Request, Response } from 'express';
import type { Session, SessionData } from 'express-session';
import { promisify } from 'node:util';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-codes';
import type { AppConfiguration } from '../config/configuration';
import type { EndedSession } from '../session-events/session-events.service';
import type { AmrEntry } from '../sessions/amr';
import type { ActiveSession } from '../sessions/auth-state';
import type { SecondStep } from '../sessions/second-step';
import { deviceSignalsOf } from '../devices/device-binding';
import type { StoredSession } from '../sessions/session-document';
import type { RotationReason } from '../session-events/ending';
import { sessionStorageId } from '../sessions/session-id';
import { Issued, SessionsService } from '../sessions/sessions.service';
import type { VerifiedUser } from '../users/authenticated-user';

type LoadedSession = Session & Partial<SessionData>;

/** A response at or above this status is a failure: it does not count as activity. */
const FIRST_ERROR_STATUS = 400;

/**
 * The HTTP side of a session, in one place: the request's express-session
 * (a new id at sign-in and rotation, none once it ended), its cookie, and
 * which requests count as activity. What happens to the session itself is
 * SessionsService's, on plain values; this only carries them between it and
 * the request.
 */
@Injectable()
export class SessionHttpAdapter {
  readonly cookieName: string;
  readonly cookieOptions: CookieOptions;

  constructor(
    private readonly sessions: SessionsService,
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

  /**
   * Sign-in: a fresh session id for this user (no fixation). A live session
   * this browser held is ended first. `trustedDevice`: the browser showed a
   * device cookie of this account. `amr`: how it was proven, when not by the
   * password just now (a passkey alone).
   */
  async start(req: Request, user: VerifiedUser, { trustedDevice, amr }: { trustedDevice: boolean; amr?: AmrEntry[] }): Promise<void> {
    const endedAtSignIn = await this.sessions.makeRoomForSignIn(user.id, previousOf(req));
    await this.regenerate(req);
    const device = deviceSignalsOf((name) => req.get(name));
    const id = SessionHttpAdapter.currentId(req);
    keepOrForget(req, await this.sessions.start(id, user, { cookie: req.session.cookie, device, trustedDevice, endedAtSignIn, amr }));
  }

  /**
   * The password step of a sign-in that needs a second one: a fresh session
   * id that allows only that step (SessionsService.startPending). A live or
   * pending session this browser held is ended first.
   */
  async startPending(req: Request, user: VerifiedUser, secondStep: SecondStep): Promise<void> {
    const previous = previousOf(req);
    if (previous) await this.sessions.makeRoomForSignIn(user.id, previous);
    await this.regenerate(req);
    const device = deviceSignalsOf((name) => req.get(name));
    const id = SessionHttpAdapter.currentId(req);
    keepOrForget(req, await this.sessions.startPending(id, user, { cookie: req.session.cookie, device, secondStep }));
  }

  /**
   * The second step succeeded: the pending session ends (one conditional
   * write, so of parallel second steps one goes on; the others get AUTH_1003)
   * and the sign-in starts under a new id, proven as `amr` says.
   */
  async completeSignIn(
    req: Request,
    user: VerifiedUser,
    { trustedDevice, amr }: { trustedDevice: boolean; amr: AmrEntry[] },
  ): Promise<void> {
    if (!(await this.sessions.endForRotation(endedOf(req), 'second_step'))) {
      forget(req);
      throw new AppException(ErrorCode.SESSION_INVALID);
    }
    const endedAtSignIn = await this.sessions.makeRoomForSignIn(user.id);
    await this.regenerate(req);
    const device = deviceSignalsOf((name) => req.get(name));
    const id = SessionHttpAdapter.currentId(req);
    keepOrForget(req, await this.sessions.start(id, user, { cookie: req.session.cookie, device, trustedDevice, endedAtSignIn, amr }));
  }

  /**
   * The password was proved again (re-authentication): the session continues
   * under a new id, and sensitive actions are open for REAUTH_MINUTES.
   */
  async reauthenticated(req: Request, user: VerifiedUser, proved: AmrEntry): Promise<void> {
    await this.assertIssuedUnder(req, user.stamp);
    await this.rotate(req, { user, proved, reason: 'reauthenticated' });
  }

  /** The request's session was issued under `stamp`; otherwise it ends here and the request fails with AUTH_1003. */
  async assertIssuedUnder(req: Request, stamp: string): Promise<void> {
    const refused = await this.sessions.checkIssuedUnder({ ...endedOf(req), stamp: (req.session as StoredSession).stamp }, stamp);
    if (refused) keepOrForget(req, refused);
  }

  /**
   * The same session under a new id and cookie, after re-authentication or a
   * credential change: the old cookie is refused from now on. A session ended
   * meanwhile stays ended (AUTH_1003). `proved`: a method just proven in it.
   */
  async rotate(req: Request, { user, proved, reason }: { user: VerifiedUser; proved?: AmrEntry; reason: RotationReason }): Promise<void> {
    const old = req.session as StoredSession;
    if (!(await this.sessions.endForRotation(endedOf(req), reason))) {
      forget(req);
      throw new AppException(ErrorCode.SESSION_INVALID);
    }
    await this.regenerate(req);
    const id = SessionHttpAdapter.currentId(req);
    keepOrForget(req, await this.sessions.continueSession(id, old, { user, proved, reason, cookie: req.session.cookie }));
  }

  /** A credential change made from this request's session lost: the session ends here, and the request fails with AUTH_1003. */
  async endForLostChange(req: Request): Promise<never> {
    keepOrForget(req, await this.sessions.endStale(endedOf(req)));
    throw new AppException(ErrorCode.SESSION_INVALID);
  }

  /** Ahead of a credential change from stamp `from` to `to` made from this request's session (SessionsService.moveToStamp). */
  async moveToStamp(req: Request, from: string, to: string): Promise<void> {
    await this.sessions.moveToStamp(SessionHttpAdapter.currentId(req), from, to);
    (req.session as StoredSession).stamp = to;
  }

  /**
   * Sign-out: ends the request's session server-side (recorded once), also
   * one that could not be loaded (MongoDB down: looked up again, which fails
   * while it is down); the cookie is the caller's to clear.
   */
  async end(req: Request): Promise<void> {
    if ((req.session as LoadedSession | undefined)?.userId) {
      const session = endedOf(req);
      forget(req);
      return this.sessions.signOut(session.id, session);
    }
    if (req.auth?.state !== 'unverified') return;
    const id = SessionHttpAdapter.currentId(req);
    forget(req);
    await this.sessions.signOut(id);
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

  /** Counts the request as activity (SessionsService.recordActivity); forced for "stay signed in". */
  async recordActivity(req: Request, options: { force?: boolean } = {}): Promise<ActiveSession | undefined> {
    const session = req.session as LoadedSession | undefined;
    if (!session?.userId || !session.createdAt || !session.lastActivityAt) return undefined;
    const { createdAt, lastActivityAt, authenticatedAt, endedAtSignIn, amr } = session;
    const active = await this.sessions.recordActivity(
      { id: SessionHttpAdapter.currentId(req), createdAt, lastActivityAt, authenticatedAt, endedAtSignIn, amr },
      options,
    );
    if (active) session.lastActivityAt = active.lastActivityAt;
    return active;
  }

  /** A new id and an empty session for the request; nothing is written. */
  private regenerate(req: Request): Promise<void> {
    return promisify(req.sessionStore.regenerate.bind(req.sessionStore))(req);
  }
}

/** The request no longer has a session: express-session has nothing left to save, touch or delete. */
export function forget(req: Request): void {
  delete (req as Partial<Request>).session;
}

/** An issued session goes into the request (its cookie is set); a refused one leaves none, and the request fails. */
function keepOrForget(req: Request, issued: Issued): void {
  if ('refused' in issued) {
    forget(req);
    throw issued.refused;
  }
  Object.assign(req.session, issued.session);
}

/** A session the browser held when it signs in again, live or waiting for a second step: it ends first. */
function previousOf(req: Request): EndedSession | undefined {
  return req.auth?.state === 'active' || req.auth?.state === 'pending' ? endedOf(req) : undefined;
}

/** The request's own session, as the event of its end needs it. */
function endedOf(req: Request): EndedSession {
  const session = req.session as StoredSession;
  return { id: SessionHttpAdapter.currentId(req), userId: session.userId, createdAt: session.createdAt };
}
