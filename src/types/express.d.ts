import type { AmrEntry } from '../sessions/amr';
import type { AuthState } from '../sessions/auth-state';
import type { PendingSecondStep } from '../sessions/second-step';
import type { DeviceSignals } from '../devices/device-binding';
import type { Ending } from '../session-events/ending';
import type { EndedReason } from '../sessions/session-ending';
import type { UserRole } from '../users/user.schema';

declare global {
  namespace Express {
    interface Request {
      correlationId: string;
      /** Who is calling, decided once per request by the session state middleware. */
      auth: AuthState;
      /** Why MongoDB could not load the session the cookie names (a POST): only a @SignsOut route goes on. */
      sessionLoadError?: unknown;
      /** The request carried more than one session cookie: neither was loaded (createExpressSession). */
      sessionCookieConflict?: boolean;
    }
  }
}

declare module 'express-session' {
  interface SessionData {
    userId: string;
    /** What a request needs of its user, kept here so it costs no read: UsersService publishes each change, SessionsService applies it. */
    email: string;
    name: string;
    role: UserRole;
    /** The user's credential stamp when this session was issued; a session whose stamp is not the user's is ended. */
    stamp?: string;
    /** The stamp a credential change made from this session moved it away from (moveToStamp): if that change loses, the winner's clean-up ends it. */
    movedFrom?: string;
    createdAt: Date;
    lastActivityAt: Date;
    ip: string;
    userAgent: string;
    /** When the user last proved the password here (sign-in or re-authentication). */
    authenticatedAt: Date;
    /** How this session was proven, each method with when it last was; absent on sessions stored before it was kept (the password at sign-in). */
    amr?: AmrEntry[];
    /** The device at sign-in: User-Agent family and Client Hints; a request from another device ends the session (sameDevice). */
    device: DeviceSignals;
    /** Only the password is proved so far: the session allows nothing but the second step, until `until`. */
    pending?: PendingSecondStep;
    /** Older sessions of the user this sign-in ended (SESSION_MAX_PER_USER), for the dashboard to say so. */
    endedAtSignIn?: number;
    /** Set by the write that ended it (the expiry pass, or markEnding): ended, whatever its timestamps say. */
    endedReason?: EndedReason;
    /** Which call marked it (a token per call), so that call alone records the end; removed once recorded. */
    endedBy?: string;
    /** When it was marked. */
    markedAt?: Date;
    /** The event that records its end, when it ended one at a time (markEnding): the expiry pass records it if its ender died. */
    ending?: Ending;
    /** The document's TTL field as read (HashedMongoStore.get), never written back: see SessionExpiryPolicy.evaluate. */
    storedExpires?: Date;
  }
}
