import type { AuthState } from '../sessions/auth-state';
import type { UserRole } from '../users/user.schema';

declare global {
  namespace Express {
    interface Request {
      correlationId: string;
      /** Who is calling, decided once per request by the session state middleware. */
      auth: AuthState;
      /** Set on sign-out when MongoDB could not load the session named by the cookie. */
      sessionUnverified?: boolean;
    }
  }
}

declare module 'express-session' {
  interface SessionData {
    userId: string;
    /** What a request needs of its user, kept here so it costs no read; see SessionsRepository.refreshUser. */
    email: string;
    name: string;
    role: UserRole;
    createdAt: Date;
    lastActivityAt: Date;
    ip: string;
    userAgent: string;
  }
}
