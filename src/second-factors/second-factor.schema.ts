import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { HydratedDocument } from 'mongoose';
import { RECOVERY_CODES_COLLECTION, SECOND_FACTORS_COLLECTION } from './second-factor.constants';

/** The kinds of factor an account can hold, one document each; a passkey is one more kind. */
export const SECOND_FACTOR_TYPES = ['totp', 'passkey'] as const;
export type SecondFactorType = (typeof SECOND_FACTOR_TYPES)[number];

@Schema({ _id: false })
export class TotpState {
  /** Base32, as the authenticator app got it. */
  @Prop({ required: true })
  secret: string;

  /** The time step of the last code accepted: no code of this step or an earlier one is accepted again. */
  @Prop()
  lastUsedStep?: number;
}

/** A WebAuthn credential as registered: what verifying its assertions needs. */
@Schema({ _id: false })
export class PasskeyState {
  /** The credential id, base64url, as the browser names it in assertions. */
  @Prop({ required: true })
  credentialId: string;
  /** COSE public key. */
  @Prop({ type: Buffer, required: true })
  publicKey: Buffer;
  /** The authenticator's signature counter when last seen; 0 for authenticators that keep none (most synced passkeys). */
  @Prop({ required: true })
  counter: number;
  @Prop({ type: [String], default: undefined })
  transports?: string[];
  /** Whether the credential can be synced between devices (`multiDevice`) and was backed up when last seen. */
  @Prop({ required: true })
  deviceType: string;
  @Prop({ required: true })
  backedUp: boolean;
}

@Schema({ collection: SECOND_FACTORS_COLLECTION, versionKey: false })
export class SecondFactor {
  @Prop({ required: true })
  userId: string;

  @Prop({ type: String, required: true, enum: SECOND_FACTOR_TYPES })
  type: SecondFactorType;

  @Prop({ required: true })
  name: string;

  @Prop({ required: true })
  createdAt: Date;

  /** Set once a first valid code proved the enrolment; until then the factor does not count. */
  @Prop()
  confirmedAt?: Date;

  @Prop()
  lastUsedAt?: Date;

  @Prop({ type: SchemaFactory.createForClass(TotpState) })
  totp?: TotpState;

  @Prop({ type: SchemaFactory.createForClass(PasskeyState) })
  passkey?: PasskeyState;
}

export type SecondFactorDocument = HydratedDocument<SecondFactor>;
export const SecondFactorSchema = SchemaFactory.createForClass(SecondFactor);
// An account's factors: listed at sign-in and on the security page.
SecondFactorSchema.index({ userId: 1, type: 1 });
// A passkey sign-in names only its credential: the account comes from it.
SecondFactorSchema.index({ 'passkey.credentialId': 1 });

/** One unused recovery code; `_id` is recoveryCodeId(userId, code), so using it is a delete by `_id`. */
@Schema({ collection: RECOVERY_CODES_COLLECTION, versionKey: false })
export class RecoveryCode {
  @Prop({ type: String, required: true })
  _id: string;

  @Prop({ required: true })
  userId: string;

  @Prop({ required: true })
  createdAt: Date;
}

export const RecoveryCodeSchema = SchemaFactory.createForClass(RecoveryCode);
// How many an account has left, and replacing them all.
RecoveryCodeSchema.index({ userId: 1 });
