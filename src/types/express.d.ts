import type { AuthState } from '../sessions/auth-state';

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
    createdAt: Date;
    lastActivityAt: Date;
    ip: string;
    userAgent: string;
  }
}
