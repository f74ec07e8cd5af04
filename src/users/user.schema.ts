import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { HydratedDocument } from 'mongoose';

export const USER_ROLES = ['user', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];

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

  createdAt: Date;
  updatedAt: Date;
}

export type UserDocument = HydratedDocument<User>;
export const UserSchema = SchemaFactory.createForClass(User);
// "Is there an admin?" at boot; the email index serves lookups, prefix search and sorting.
UserSchema.index({ role: 1 });
UserSchema.set('toJSON', {
  transform: (_document, ret) => {
    const { passwordHash: _omitted, ...rest } = ret as typeof ret & { passwordHash?: string };
    return rest;
  },
});
