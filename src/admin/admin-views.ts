import type { SessionEventDocument } from '../session-events/session-event.schema';
import type { UserDocument } from '../users/user.schema';

export interface AdminUserView {
  id: string;
  email: string;
  name: string;
  role: string;
  disabled: boolean;
  createdAt: string;
}

export interface EventView {
  id: string;
  type: string;
  userId?: string;
  email?: string;
  /** Failed sign-ins for no known account: a keyed hash of the typed text. */
  emailHash?: string;
  actorId?: string;
  sessionId?: string;
  reason?: string;
  ip: string;
  userAgent: string;
  correlationId: string;
  at: string;
}

export interface AdminOverview {
  activeSessions: number;
  /** Set when `activeSessions` is a count made before the request: a fresh one did not come in time. */
  activeSessionsCountedBefore?: string;
  users: number;
  last24h: { signIns: number; failures: number; expiredByInactivity: number; expiredByAbsolute: number };
}

export function toAdminUserView(user: UserDocument): AdminUserView {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    disabled: user.disabled,
    createdAt: user.createdAt.toISOString(),
  };
}

export function toEventView(event: SessionEventDocument): EventView {
  return {
    id: event.id,
    type: event.type,
    userId: event.userId,
    email: event.email,
    emailHash: event.emailHash,
    actorId: event.actorId,
    sessionId: event.sessionId,
    reason: event.reason,
    ip: event.ip,
    userAgent: event.userAgent,
    correlationId: event.correlationId,
    at: event.at.toISOString(),
  };
}
