import type { SessionDocument } from './session-document';
import { describeUserAgent } from '../devices/user-agent';
import { amrOrPassword, AmrView, toAmrView } from './amr';

/** A session as people see it in device lists: a public id, never a token. */
export interface DeviceSessionView {
  id: string;
  current: boolean;
  browser: string;
  os: string;
  ip: string;
  createdAt: string;
  lastActivityAt: string;
  /** How the session was proven. */
  amr: AmrView[];
  /** Only the password so far: a sign-in waiting for its second step (whoever it is knows the password). */
  pending?: true;
}

export interface AdminSessionView extends DeviceSessionView {
  userId: string;
  email?: string;
}

export function toDeviceSessionView(document: SessionDocument, currentId: string | undefined): DeviceSessionView {
  const { session } = document;
  return {
    id: document._id,
    current: document._id === currentId,
    ...describeUserAgent(session.userAgent),
    ip: session.ip ?? '',
    createdAt: new Date(session.createdAt).toISOString(),
    lastActivityAt: new Date(session.lastActivityAt).toISOString(),
    amr: toAmrView(amrOrPassword(session.amr, new Date(session.createdAt))),
    ...(session.pending && { pending: true as const }),
  };
}

export function toAdminSessionView(
  document: SessionDocument,
  currentId: string | undefined,
  emails: Map<string, string>,
): AdminSessionView {
  return {
    ...toDeviceSessionView(document, currentId),
    userId: document.session.userId,
    email: emails.get(document.session.userId),
  };
}
