import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { SessionData } from 'express-session';
import { ConfigService } from '@nestjs/config';
import { RequestContext } from '../common/context/request-context';
import type { AppConfiguration } from '../config/configuration';
import { SessionExpiryPolicy } from '../sessions/session-expiry-policy';
import { deviceSignalsOf, sameDevice } from '../devices/device-binding';
import { isExpiryReason } from '../sessions/session-ending';
import { SessionsService } from '../sessions/sessions.service';
import { forget, SessionHttpAdapter } from './session-http.adapter';

/**
 * Runs after express-session and decides, once per request, what the session
 * cookie amounts to (`req.auth`). An expired session is deleted here, so it
 * can never be revived, and a dead cookie is cleared. Guards turn the state
 * into answers; public pages such as /login simply see "not signed in".
 */
@Injectable()
export class SessionStateMiddleware implements NestMiddleware {
  private readonly bindUserAgent: boolean;

  constructor(
    private readonly sessions: SessionsService,
    private readonly http: SessionHttpAdapter,
    private readonly policy: SessionExpiryPolicy,
    config: ConfigService<AppConfiguration, true>,
  ) {
    this.bindUserAgent = config.get('session', { infer: true }).bindUserAgent;
  }

  use(req: Request, res: Response, next: NextFunction): void {
    // Most anonymous traffic (probes, the sign-in page, assets) has no session at all: decided without a promise.
    if (req.session === undefined && req.sessionLoadError === undefined && req.cookies?.[this.http.cookieName] === undefined) {
      req.auth = { state: 'anonymous' };
      return next();
    }
    this.resolve(req, res).then(() => next(), next);
  }

  private async resolve(req: Request, res: Response): Promise<void> {
    if (req.sessionLoadError !== undefined) {
      req.auth = { state: 'unverified' };
      return;
    }
    const data = req.session as Partial<SessionData> | undefined;
    // express-session drops a tampered or unknown cookie silently, and is skipped for two session cookies
    // (createExpressSession): tell those apart from "no cookie".
    const cookieSent = req.cookies?.[this.http.cookieName] !== undefined;

    if (!data?.userId || !data.createdAt || !data.lastActivityAt) {
      req.auth = { state: cookieSent ? 'invalid' : 'anonymous' };
      if (cookieSent) this.http.clearCookie(res);
      return;
    }

    const id = SessionHttpAdapter.currentId(req);
    const ended = { id, userId: data.userId, createdAt: data.createdAt };
    // Marked ended: whatever its timestamps say now. The expiry pass leaves its marks for the TTL index or the
    // sweep to remove (a day later), so the pass that marked it always finds its mark to record it; any other
    // ending is read here only between its mark and its removal.
    if (data.endedReason !== undefined) {
      forget(req);
      this.http.clearCookie(res);
      req.auth = isExpiryReason(data.endedReason) ? { state: 'expired', reason: data.endedReason } : { state: 'invalid' };
      return;
    }
    const now = new Date();
    const storedExpiry = data.storedExpires && new Date(data.storedExpires);
    const verdict = this.policy.evaluate({ createdAt: data.createdAt, lastActivityAt: data.lastActivityAt }, now, storedExpiry);
    if (verdict.expired) {
      forget(req);
      await this.sessions.expire(ended, verdict.reason, {
        liveInStore: !!storedExpiry && SessionExpiryPolicy.liveInStore(storedExpiry, now),
      });
      this.http.clearCookie(res);
      req.auth = { state: 'expired', reason: verdict.reason };
      return;
    }

    if (this.bindUserAgent && data.device) {
      // From the headers and the stored device alone: no read.
      const usedDevice = deviceSignalsOf((name) => req.get(name));
      if (!sameDevice(data.device, usedDevice)) {
        forget(req);
        await this.sessions.endForDeviceChange(ended, { userAgent: data.userAgent ?? '', device: data.device }, usedDevice);
        this.http.clearCookie(res);
        req.auth = { state: 'device_changed' };
        return;
      }
    }

    // The session carries what a request needs of its user (SessionsService applies every change to it): no read.
    const { email, name, role } = data as SessionData;
    const user = { id: data.userId, email, name, role };
    if (data.pending) {
      // A second step not taken in time: the sign-in is over, as an absolute deadline ends a session.
      if (now.getTime() >= new Date(data.pending.until).getTime()) {
        forget(req);
        await this.sessions.expire(ended, 'absolute', { liveInStore: true });
        this.http.clearCookie(res);
        req.auth = { state: 'expired', reason: 'absolute' };
        return;
      }
      const { methods, enrol } = data.pending;
      req.auth = {
        state: 'pending',
        pending: { id, user, stamp: data.stamp ?? '', createdAt: new Date(data.createdAt), secondStep: { methods, enrol } },
      };
      RequestContext.setUserId(user.id);
      return;
    }
    req.auth = {
      state: 'active',
      user,
      session: {
        ...this.sessions.describe(id, {
          createdAt: data.createdAt,
          lastActivityAt: data.lastActivityAt,
          authenticatedAt: data.authenticatedAt,
          endedAtSignIn: data.endedAtSignIn,
          amr: data.amr,
        }),
        // The stored deadline, when it comes first (see SessionExpiryPolicy.evaluate).
        idleExpiresAt: verdict.idleExpiresAt,
      },
    };
    RequestContext.setUserId(user.id);
  }
}
