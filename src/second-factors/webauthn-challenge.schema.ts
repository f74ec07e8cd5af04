import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { WEBAUTHN_CHALLENGES_COLLECTION } from './second-factor.constants';

/** What a challenge was issued for: an answer only counts for the same purpose. */
export const WEBAUTHN_PURPOSES = ['register', 'sign-in', 'second-step', 'reauth'] as const;
export type WebAuthnPurpose = (typeof WEBAUTHN_PURPOSES)[number];

/**
 * One challenge given to a browser, until it is answered or expires. `_id` is
 * the challenge itself: the answer carries it in its client data, so taking
 * it is one delete by `_id`, which every instance sees.
 */
@Schema({ collection: WEBAUTHN_CHALLENGES_COLLECTION, versionKey: false })
export class WebAuthnChallenge {
  @Prop({ type: String, required: true })
  _id: string;

  @Prop({ type: String, required: true, enum: WEBAUTHN_PURPOSES })
  purpose: WebAuthnPurpose;

  /** The account it was issued to; none for a passkey sign-in, where the answer names the account. */
  @Prop()
  userId?: string;

  @Prop({ required: true })
  expiresAt: Date;
}

export const WebAuthnChallengeSchema = SchemaFactory.createForClass(WebAuthnChallenge);
