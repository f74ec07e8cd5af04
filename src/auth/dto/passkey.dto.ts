import { applyDecorators } from '@nestjs/common';
import { Type } from 'class-transformer';
import { ArrayMaxSize, Equals, IsIn, IsInt, IsNotEmpty, IsObject, IsString, Matches, MaxLength, ValidateNested } from 'class-validator';
import { MayBeAbsent } from '../../common/validation/may-be-absent.decorator';
import { PASSKEY_NAME_MAX_LENGTH, WEBAUTHN_FIELD_MAX_LENGTH } from '../../second-factors/second-factor.constants';

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const MAX_TRANSPORTS = 8;
const MAX_TRANSPORT_LENGTH = 32;
const AUTHENTICATOR_ATTACHMENTS = ['platform', 'cross-platform'];

/** A base64url field of a WebAuthn answer, as @simplewebauthn/browser sends it. */
function Base64Url(): PropertyDecorator {
  return applyDecorators(
    IsString(),
    IsNotEmpty(),
    MaxLength(WEBAUTHN_FIELD_MAX_LENGTH),
    Matches(BASE64URL, { message: 'must be base64url' }),
  );
}

class AttestationResponseDto {
  @Base64Url()
  clientDataJSON: string;

  @Base64Url()
  attestationObject: string;

  @MayBeAbsent()
  @Base64Url()
  authenticatorData?: string;

  @MayBeAbsent()
  @ArrayMaxSize(MAX_TRANSPORTS)
  @IsString({ each: true })
  @MaxLength(MAX_TRANSPORT_LENGTH, { each: true })
  transports?: string[];

  @MayBeAbsent()
  @IsInt()
  publicKeyAlgorithm?: number;

  @MayBeAbsent()
  @Base64Url()
  publicKey?: string;
}

class AssertionResponseDto {
  @Base64Url()
  clientDataJSON: string;

  @Base64Url()
  authenticatorData: string;

  @Base64Url()
  signature: string;

  @MayBeAbsent()
  @Base64Url()
  userHandle?: string;
}

/** What every PublicKeyCredential carries, as JSON (`toJSON()`, or @simplewebauthn/browser). */
class CredentialDto {
  @Base64Url()
  id: string;

  @Base64Url()
  rawId: string;

  @Equals('public-key')
  type: 'public-key';

  @MayBeAbsent()
  @IsIn(AUTHENTICATOR_ATTACHMENTS)
  authenticatorAttachment?: 'platform' | 'cross-platform';

  /** Extension outputs: none is asked for, so none is read. */
  @IsObject()
  clientExtensionResults: Record<string, unknown>;
}

/** navigator.credentials.create()'s answer. */
export class RegistrationCredentialDto extends CredentialDto {
  @ValidateNested()
  @Type(() => AttestationResponseDto)
  response: AttestationResponseDto;
}

/** navigator.credentials.get()'s answer. */
export class AuthenticationCredentialDto extends CredentialDto {
  @ValidateNested()
  @Type(() => AssertionResponseDto)
  response: AssertionResponseDto;
}

/** A new passkey: what its owner calls it, and the authenticator's answer. */
export class RegisterPasskeyDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(PASSKEY_NAME_MAX_LENGTH)
  name: string;

  @IsObject()
  @ValidateNested()
  @Type(() => RegistrationCredentialDto)
  response: RegistrationCredentialDto;
}

/** A passkey's answer to a challenge: sign-in, second step, re-authentication. */
export class PasskeyAssertionDto {
  @IsObject()
  @ValidateNested()
  @Type(() => AuthenticationCredentialDto)
  response: AuthenticationCredentialDto;
}
