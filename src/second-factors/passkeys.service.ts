import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import {
  AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { decodeClientDataJSON, isoBase64URL, isoUint8Array } from '@simplewebauthn/server/helpers';
import { randomBytes } from 'node:crypto';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-codes';
import type { AppConfiguration } from '../config/configuration';
import {
  PASSKEY_RP_NAME,
  PASSKEYS_PER_USER_MAX,
  WEBAUTHN_CHALLENGE_BYTES,
  WEBAUTHN_CHALLENGE_TTL_MS,
  WEBAUTHN_TIMEOUT_MS,
} from './second-factor.constants';
import type { PasskeyState, SecondFactorDocument } from './second-factor.schema';
import { SecondFactorsRepository } from './second-factors.repository';
import { FactorView, SecondFactorsService, toFactorView } from './second-factors.service';
import type { WebAuthnPurpose } from './webauthn-challenge.schema';
import { WebAuthnChallengesRepository } from './webauthn-challenges.repository';

/** Why a passkey answer was refused; recorded with `mfa.failed`, never told apart to the client. */
export type PasskeyFailure = 'challenge' | 'credential' | 'attestation' | 'assertion' | 'user_not_verified';

/**
 * A refused passkey answer: 401 AUTH_1013 like any invalid or spent code,
 * with `details.reason` only for `user_not_verified`, which the person can
 * act on (their authenticator did not ask for a PIN or biometric).
 */
export class PasskeyRefused extends AppException {
  constructor(
    readonly reason: PasskeyFailure,
    /** The account the answer was for, when known. */
    readonly userId?: string,
  ) {
    super(ErrorCode.INVALID_CODE, reason === 'user_not_verified' ? { reason } : undefined);
  }
}

/** A verified registration, not yet stored: the caller bumps the credential stamp in between. */
export interface CheckedPasskey {
  name: string;
  passkey: PasskeyState;
}

/** A verified assertion: whose passkey it was, and whether the authenticator verified the person (PIN, biometric). */
export interface PasskeyProof {
  userId: string;
  factorId: string;
  userVerified: boolean;
}

/**
 * Passkeys (WebAuthn, through @simplewebauthn/server), on plain values:
 * options with a fresh challenge, and checking the browser's answer to it.
 * Each challenge is stored server side for its purpose (and account), and an
 * answer takes it, so it counts once, on whichever instance, and not after
 * WEBAUTHN_CHALLENGE_TTL_MS. The relying party is PUBLIC_URL's host and the
 * only origin accepted is PUBLIC_URL. Sessions, the stamp and events are the
 * callers' (src/auth).
 */
@Injectable()
export class PasskeysService {
  private readonly origin: string;
  private readonly rpId: string;

  constructor(
    private readonly factors: SecondFactorsRepository,
    private readonly challenges: WebAuthnChallengesRepository,
    private readonly secondFactors: SecondFactorsService,
    config: ConfigService<AppConfiguration, true>,
  ) {
    const site = config.get('secondFactors', { infer: true });
    this.origin = site.publicOrigin;
    this.rpId = site.relyingPartyId;
  }

  /**
   * Options to create a passkey for this account: discoverable (so it can
   * sign in alone), user verification preferred, the account's passkeys
   * excluded so one authenticator is not registered twice.
   */
  async registrationOptions(user: { id: string; email: string; name?: string }): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const existing = await this.factors.findConfirmed(user.id, 'passkey');
    if (existing.length >= PASSKEYS_PER_USER_MAX) {
      throw new AppException(ErrorCode.INVALID_INPUT, { fields: { passkey: `at most ${PASSKEYS_PER_USER_MAX} passkeys per account` } });
    }
    return generateRegistrationOptions({
      rpName: PASSKEY_RP_NAME,
      rpID: this.rpId,
      userName: user.email,
      userDisplayName: user.name || user.email,
      userID: isoUint8Array.fromUTF8String(user.id),
      challenge: await this.newChallenge('register', user.id),
      timeout: WEBAUTHN_TIMEOUT_MS,
      attestationType: 'none',
      excludeCredentials: existing.map(descriptorOf),
      authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
    });
  }

  /**
   * Verifies the answer to registrationOptions, writing nothing but the
   * challenge it takes. Without user verification too: as a second factor a
   * passkey proves possession; signing in with it alone asks for more.
   */
  async checkRegistration(userId: string, name: string, response: RegistrationResponseJSON): Promise<CheckedPasskey> {
    const challenge = await this.takeChallenge(response.response.clientDataJSON, 'register', userId);
    let verified;
    try {
      verified = await verifyRegistrationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: this.origin,
        expectedRPID: this.rpId,
        requireUserVerification: false,
      });
    } catch {
      throw new PasskeyRefused('attestation', userId);
    }
    if (!verified.verified) throw new PasskeyRefused('attestation', userId);
    const { credential, credentialDeviceType, credentialBackedUp } = verified.registrationInfo;
    if ((await this.factors.findPasskeysByCredentialId(credential.id)).length > 0) throw new PasskeyRefused('credential', userId);
    return {
      name,
      passkey: {
        credentialId: credential.id,
        publicKey: Buffer.from(credential.publicKey),
        counter: credential.counter,
        transports: credential.transports,
        deviceType: credentialDeviceType,
        backedUp: credentialBackedUp,
      },
    };
  }

  /** Stores a checked passkey; a first factor comes with a fresh set of recovery codes, shown this once (otherwise none). */
  async confirmRegistration(
    userId: string,
    checked: CheckedPasskey,
    at = new Date(),
  ): Promise<{ factor: FactorView; recoveryCodes: string[] }> {
    const first = !(await this.secondFactors.hasFactor(userId));
    await this.secondFactors.beforeAdding(userId);
    const factor = await this.factors.create({
      userId,
      type: 'passkey',
      name: checked.name,
      createdAt: at,
      confirmedAt: at,
      passkey: checked.passkey,
    });
    const recoveryCodes = first ? await this.secondFactors.regenerateRecoveryCodes(userId, at) : [];
    return { factor: toFactorView(factor), recoveryCodes };
  }

  /**
   * Options to prove a passkey. With `userId` (a second step, a
   * re-authentication) the account's passkeys are listed; without (a sign-in
   * with a passkey alone) none are, and the browser offers the discoverable
   * ones it has for this site.
   */
  async authenticationOptions(purpose: WebAuthnPurpose, userId?: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const passkeys = userId ? await this.factors.findConfirmed(userId, 'passkey') : [];
    return generateAuthenticationOptions({
      rpID: this.rpId,
      challenge: await this.newChallenge(purpose, userId),
      timeout: WEBAUTHN_TIMEOUT_MS,
      allowCredentials: passkeys.map(descriptorOf),
      userVerification: 'preferred',
    });
  }

  /**
   * Verifies an answer to authenticationOptions(purpose, userId): the
   * challenge is taken (once), the credential must be one of the account's
   * (without `userId`, the one the authenticator names as its user), the
   * signature must verify with its public key and the signature counter must
   * have grown (when the authenticator keeps one), as the library checks; the
   * new counter is recorded. Whether the person was verified is the caller's
   * to weigh (`userVerified`). PasskeyRefused on any failure.
   */
  async authenticate(purpose: WebAuthnPurpose, response: AuthenticationResponseJSON, userId?: string): Promise<PasskeyProof> {
    const challenge = await this.takeChallenge(response.response.clientDataJSON, purpose, userId);
    const owner = userId ?? userOfHandle(response.response.userHandle);
    const factor = (await this.factors.findPasskeysByCredentialId(response.id)).find((found) => found.userId === owner);
    if (!owner || !factor?.passkey || !factor.confirmedAt) throw new PasskeyRefused('credential', userId);
    const stored = factor.passkey;
    let verified;
    try {
      verified = await verifyAuthenticationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: this.origin,
        expectedRPID: this.rpId,
        credential: {
          id: stored.credentialId,
          publicKey: new Uint8Array(stored.publicKey),
          counter: stored.counter,
          transports: stored.transports,
        },
        requireUserVerification: false,
      });
    } catch {
      throw new PasskeyRefused('assertion', owner);
    }
    if (!verified.verified) throw new PasskeyRefused('assertion', owner);
    const { newCounter, credentialBackedUp, userVerified } = verified.authenticationInfo;
    const recorded = await this.factors.recordPasskeyUse(owner, String(factor._id), {
      fromCounter: stored.counter,
      counter: newCounter,
      backedUp: credentialBackedUp,
      at: new Date(),
    });
    if (!recorded) throw new PasskeyRefused('assertion', owner);
    return { userId: owner, factorId: String(factor._id), userVerified };
  }

  /** Whether the answer verifies for this purpose and account (authenticate, with a refusal as false). */
  async proves(purpose: WebAuthnPurpose, response: AuthenticationResponseJSON, userId: string): Promise<boolean> {
    try {
      await this.authenticate(purpose, response, userId);
      return true;
    } catch (error) {
      if (error instanceof PasskeyRefused) return false;
      throw error;
    }
  }

  /** A fresh challenge, stored under the base64url form the browser's client data will carry. */
  private async newChallenge(purpose: WebAuthnPurpose, userId?: string): Promise<Uint8Array> {
    const challenge = randomBytes(WEBAUTHN_CHALLENGE_BYTES);
    await this.challenges.insert({
      _id: challenge.toString('base64url'),
      purpose,
      ...(userId ? { userId } : {}),
      expiresAt: new Date(Date.now() + WEBAUTHN_CHALLENGE_TTL_MS),
    });
    return new Uint8Array(challenge);
  }

  /**
   * Takes the challenge the answer's client data names: it must have been
   * issued for this purpose and account, and not have expired. Taken even
   * when it does not match, so no challenge is tried twice.
   */
  private async takeChallenge(clientDataJSON: string, purpose: WebAuthnPurpose, userId?: string): Promise<string> {
    const challenge = clientChallengeOf(clientDataJSON);
    const taken = challenge ? await this.challenges.take(challenge) : null;
    const fits = taken && taken.purpose === purpose && taken.userId === userId && taken.expiresAt.getTime() > Date.now();
    if (!fits) throw new PasskeyRefused('challenge', userId);
    return taken._id;
  }
}

/** What a browser needs to find a registered passkey. */
function descriptorOf(factor: SecondFactorDocument): { id: string; transports?: string[] } {
  return { id: factor.passkey!.credentialId, transports: factor.passkey!.transports };
}

/** The challenge the client data names, if it is client data at all. */
function clientChallengeOf(clientDataJSON: string): string | undefined {
  try {
    const { challenge } = decodeClientDataJSON(clientDataJSON);
    return typeof challenge === 'string' && isoBase64URL.isBase64URL(challenge) ? challenge : undefined;
  } catch {
    return undefined;
  }
}

/** The account a discoverable credential names (the user id it was created with), if any. */
function userOfHandle(userHandle: string | undefined): string | undefined {
  if (!userHandle || !isoBase64URL.isBase64URL(userHandle)) return undefined;
  return isoUint8Array.toUTF8String(isoBase64URL.toBuffer(userHandle));
}
