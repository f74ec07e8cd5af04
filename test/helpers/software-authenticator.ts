import { isoCBOR } from '@simplewebauthn/server/helpers';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { createHash, generateKeyPairSync, KeyObject, randomBytes, sign } from 'node:crypto';

const FLAG_USER_PRESENT = 0x01;
const FLAG_USER_VERIFIED = 0x04;
const FLAG_ATTESTED_CREDENTIAL = 0x40;
const COSE = { kty: 1, alg: 3, crv: -1, x: -2, y: -3, EC2: 2, ES256: -7, P256: 1 } as const;

const b64url = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64url');
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();

export interface SoftwareAuthenticatorOptions {
  /** The origin the "browser" reports in its client data. */
  origin: string;
  /** Whether it verifies the person (PIN, biometric): the UV flag of what it signs. */
  userVerified?: boolean;
  /** Whether it keeps a signature counter (synced passkeys usually do not: always 0). */
  counts?: boolean;
}

/**
 * A WebAuthn authenticator and browser in a few lines of node:crypto (ES256,
 * `none` attestation), for e2e tests that need answers the browser would
 * never send: replays, someone else's credential, a signature of the wrong
 * key. The browser tests use Chromium's virtual authenticator instead.
 */
export class SoftwareAuthenticator {
  readonly credentialId = b64url(randomBytes(16));
  userVerified: boolean;
  counter = 0;
  private readonly counts: boolean;
  private readonly privateKey: KeyObject;
  private readonly publicJwk: { x: string; y: string };
  private userHandle?: string;

  constructor(private readonly options: SoftwareAuthenticatorOptions) {
    this.userVerified = options.userVerified ?? true;
    this.counts = options.counts ?? true;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = privateKey;
    this.publicJwk = publicKey.export({ format: 'jwk' }) as { x: string; y: string };
  }

  /** navigator.credentials.create(): a discoverable credential for the options' user. */
  register(options: PublicKeyCredentialCreationOptionsJSON): RegistrationResponseJSON {
    this.userHandle = options.user.id;
    const clientDataJSON = this.clientData('webauthn.create', options.challenge);
    const cosePublicKey = isoCBOR.encode(
      new Map<number, number | Uint8Array>([
        [COSE.kty, COSE.EC2],
        [COSE.alg, COSE.ES256],
        [COSE.crv, COSE.P256],
        [COSE.x, Buffer.from(this.publicJwk.x, 'base64url')],
        [COSE.y, Buffer.from(this.publicJwk.y, 'base64url')],
      ]),
    );
    const credentialId = Buffer.from(this.credentialId, 'base64url');
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(credentialId.length);
    const authData = Buffer.concat([
      this.authDataHead(options.rp.id ?? new URL(this.options.origin).hostname, FLAG_ATTESTED_CREDENTIAL),
      Buffer.alloc(16),
      idLength,
      credentialId,
      cosePublicKey,
    ]);
    const attestationObject = isoCBOR.encode(
      new Map<string, string | Uint8Array | Map<string, string>>([
        ['fmt', 'none'],
        ['attStmt', new Map<string, string>()],
        ['authData', authData],
      ]),
    );
    return {
      id: this.credentialId,
      rawId: this.credentialId,
      type: 'public-key',
      response: { clientDataJSON, attestationObject: b64url(attestationObject), transports: ['internal'] },
      clientExtensionResults: {},
    };
  }

  /** navigator.credentials.get(): an assertion over the options' challenge. */
  authenticate(options: PublicKeyCredentialRequestOptionsJSON): AuthenticationResponseJSON {
    const clientDataJSON = this.clientData('webauthn.get', options.challenge);
    if (this.counts) this.counter += 1;
    const authData = this.authDataHead(options.rpId ?? new URL(this.options.origin).hostname, 0);
    const signature = sign('sha256', Buffer.concat([authData, sha256(Buffer.from(clientDataJSON, 'base64url'))]), this.privateKey);
    return {
      id: this.credentialId,
      rawId: this.credentialId,
      type: 'public-key',
      response: {
        clientDataJSON,
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        ...(this.userHandle ? { userHandle: this.userHandle } : {}),
      },
      clientExtensionResults: {},
    };
  }

  private clientData(type: string, challenge: string): string {
    return b64url(JSON.stringify({ type, challenge, origin: this.options.origin, crossOrigin: false }));
  }

  private authDataHead(rpId: string, flags: number): Buffer {
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(this.counter);
    const userFlags = FLAG_USER_PRESENT | (this.userVerified ? FLAG_USER_VERIFIED : 0);
    return Buffer.concat([sha256(rpId), Buffer.from([userFlags | flags]), counter]);
  }
}
