import type { AuthState } from '../sessions/auth-state';

declare global {
  namespace Express {
    interface Request {
      correlationId: string;
      /** Who is calling, decided once per request by the session state middleware. */
      auth: AuthState;
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
