import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { HydratedDocument } from 'mongoose';
import { USER_ROLES, UserRole } from '../config/roles';

export { USER_ROLES };
export type { UserRole };

/** Password checks a known browser has been counted for, until `expire`. */
export interface DeviceCounter {
  points: number;
  expire: Date;
  /** The end of the last lock recorded on it (login.locked), so a lock is recorded once. */
  lockRecordedUntil?: Date;
}

@Schema({ collection: 'users', timestamps: true })
export class User {
  @Prop({ required: true, unique: true, lowercase: true, trim: true })
  email: string;

  /** Never selected unless asked for by name, never serialised. */
  @Prop({ required: true, select: false })
  passwordHash: string;

  @Prop({ default: '', trim: true })
  name: string;

  @Prop({ type: String, enum: USER_ROLES, default: 'user' })
  role: UserRole;

  @Prop({ default: false })
  disabled: boolean;

  /**
   * Changes with the password, the role and the disabled flag (a credential
   * stamp, as ASP.NET Identity's security stamp): a session records the stamp it
   * was issued under and dies when it differs. Accounts created before stamps
   * existed have the empty stamp.
   */
  @Prop({ default: '' })
  credentialStamp: string;

  /**
   * The stamps a credential change replaced, added with the new stamp and
   * removed once every session under them has ended. Still here after a
   * failure between the two (or a crash), they tell the expiry pass which
   * sessions to end: those under exactly these stamps, never one under a
   * newer stamp, such as the session of a change still in progress.
   */
  @Prop({ type: [String], default: undefined })
  staleStamps?: string[];

  /**
   * The audit events (AccountEvent, as JSON) of admin changes written in the
   * same command, removed once recorded. Still here after a failure between
   * the two (or a crash), they are recorded by the expiry pass, under the
   * change's time and client. Strings, so that `$pullAll` removes exactly
   * the one recorded.
   */
  @Prop({ type: [String], default: undefined, select: false })
  pendingEvents?: string[];

  /**
   * Whether the account may have a second factor, so that a sign-in reads its
   * factors only then (one command fewer for everyone else). Fail-safe: set,
   * with `secondFactorsVersion` moved on, *before* a factor is added; cleared
   * only after a removal found none left, and only while the version is the
   * one it read before counting (SecondFactorsService), so a factor being
   * added meanwhile keeps it set.
   */
  @Prop({ default: false })
  secondFactors: boolean;

  @Prop({ default: 0 })
  secondFactorsVersion: number;

  /**
   * Sign-in counters of this account's known browsers, by device id
   * (LoginThrottleService): on the account so that counting a known
   * browser's attempt and reading the password hash are one command, and
   * giving the point back rides on the read after the session insert.
   */
  @Prop({ type: Object, select: false })
  signInDevices?: Record<string, DeviceCounter>;

  createdAt: Date;
  updatedAt: Date;
}

export type UserDocument = HydratedDocument<User>;
export const UserSchema = SchemaFactory.createForClass(User);
// "Is there an admin?" at boot; the email index serves lookups, prefix search and sorting.
UserSchema.index({ role: 1 });
// Credential changes the expiry pass must finish (a few at most, usually none).
UserSchema.index({ staleStamps: 1 });
UserSchema.index({ pendingEvents: 1 });
UserSchema.set('toJSON', {
  transform: (_document, ret) => {
    const {
      passwordHash: _hash,
      signInDevices: _devices,
      ...rest
    } = ret as typeof ret & { passwordHash?: string; signInDevices?: unknown };
    return rest;
  },
});
