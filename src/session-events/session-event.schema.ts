import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { HydratedDocument } from 'mongoose';

export const SESSION_EVENT_TYPES = [
  'login.succeeded',
  'login.failed',
  'login.locked',
  'logout',
  'session.expired',
  'session.revoked',
  'user.disabled',
  'user.enabled',
  'user.role_changed',
  'session.revoked_all',
  'session.anomaly',
  'login.new_device',
  'reauth.succeeded',
  'session.rotated',
  'mfa.enrolled',
  'mfa.removed',
  'mfa.succeeded',
  'mfa.failed',
  'mfa.recovery_used',
  'mfa.reset',
] as const;
export type SessionEventType = (typeof SESSION_EVENT_TYPES)[number];

/** How many events of a type (and reason, and who) fell in one hour or day. */
export interface EventCount {
  at: Date;
  type: SessionEventType;
  reason?: string;
  by?: string;
  /** mfa.*: the method (totp, recovery, passkey). */
  method?: string;
  count: number;
}

/** How many sessions ended, and the quantiles of how long they lasted (absent when none ended). */
export interface SessionLengths {
  count: number;
  p5Ms?: number;
  p25Ms?: number;
  medianMs?: number;
  p75Ms?: number;
  p90Ms?: number;
  p95Ms?: number;
}

/** Client Hints as a session.anomaly event records them (see client-hints.ts). */
@Schema({ _id: false })
export class ClientHintsRecord {
  @Prop({ type: [String], default: undefined })
  brands?: string[];

  @Prop()
  platform?: string;

  @Prop()
  mobile?: boolean;
}

/** A device as a session.anomaly event records it (see device-binding.ts). */
@Schema({ _id: false })
export class DeviceRecord {
  @Prop()
  browser: string;

  @Prop()
  os: string;

  @Prop()
  engine?: string;

  @Prop({ type: SchemaFactory.createForClass(ClientHintsRecord) })
  hints?: ClientHintsRecord;
}
const DeviceRecordSchema = SchemaFactory.createForClass(DeviceRecord);

/** Kept this long, by a TTL index on MongoDB or the sweep on FerretDB. */
export const SESSION_EVENT_RETENTION_MS = 90 * 24 * 60 * 60_000;

@Schema({ collection: 'session_events', versionKey: false })
export class SessionEvent {
  @Prop({ type: String, required: true, enum: SESSION_EVENT_TYPES })
  type: SessionEventType;

  /** The user the event is about. */
  @Prop()
  userId?: string;

  @Prop()
  email?: string;

  /** A failed sign-in naming no account: a keyed hash of what was typed, never the text. */
  @Prop()
  emailHash?: string;

  /** Who caused it, when someone else did (an admin revoking, disabling). */
  @Prop()
  actorId?: string;

  /** The session's public id (a hash; never the cookie token). */
  @Prop()
  sessionId?: string;

  /** login.locked: which counter locked (`account`, `ip` or `device`). */
  @Prop()
  reason?: string;

  /** session.expired: how long the session lasted, from sign-in to the deadline that ended it. */
  @Prop()
  durationMs?: number;

  /** mfa.*: the factor's kind or the method used (`totp`, `recovery`, `passkey`). */
  @Prop()
  method?: string;

  /** mfa.recovery_used: how many recovery codes the account has left. */
  @Prop()
  left?: number;

  /** How many sessions an emergency sign-out ended. */
  @Prop()
  count?: number;

  /** session.anomaly: the user agent the session signed in with (`userAgent` is the one it was used with). */
  @Prop()
  signedInUserAgent?: string;

  /** session.anomaly: the device the session signed in with, and the one that used it (User-Agent family, Client Hints). */
  @Prop({ type: DeviceRecordSchema })
  signedInDevice?: DeviceRecord;

  @Prop({ type: DeviceRecordSchema })
  usedDevice?: DeviceRecord;

  @Prop({ default: '' })
  ip: string;

  @Prop({ default: '' })
  userAgent: string;

  @Prop({ default: '' })
  correlationId: string;

  @Prop({ required: true })
  at: Date;

  /** The UTC hour and day of `at`, for charts (see time-buckets.ts). */
  @Prop()
  hour?: Date;

  @Prop()
  day?: Date;

  /** session.revoked: who ended it (`user`, `admin` or `system`). */
  @Prop()
  by?: string;

  @Prop({ required: true })
  expiresAt: Date;
}

export type SessionEventDocument = HydratedDocument<SessionEvent>;
export const SessionEventSchema = SchemaFactory.createForClass(SessionEvent);
// One index per query shape of the event log.
SessionEventSchema.index({ at: -1 });
SessionEventSchema.index({ type: 1, at: -1 });
SessionEventSchema.index({ userId: 1, at: -1 });
// Session lengths: ending types merged in length order, the range checked in the index.
SessionEventSchema.index({ type: 1, durationMs: 1, at: 1 });
