import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { UsersModule } from '../users/users.module';
import { RecoveryCode, RecoveryCodeSchema, SecondFactor, SecondFactorSchema } from './second-factor.schema';
import { SecondFactorsRepository } from './second-factors.repository';
import { SecondFactorsService } from './second-factors.service';
import { PasskeysService } from './passkeys.service';
import { WebAuthnChallenge, WebAuthnChallengeSchema } from './webauthn-challenge.schema';
import { WebAuthnChallengesRepository } from './webauthn-challenges.repository';

/** An account's second factors (`second_factors`: codes and passkeys), recovery codes (`recovery_codes`) and passkey challenges (`webauthn_challenges`); the repositories stay inside. */
@Module({
  imports: [
    UsersModule,
    MongooseModule.forFeature([
      { name: SecondFactor.name, schema: SecondFactorSchema },
      { name: RecoveryCode.name, schema: RecoveryCodeSchema },
      { name: WebAuthnChallenge.name, schema: WebAuthnChallengeSchema },
    ]),
  ],
  providers: [SecondFactorsRepository, SecondFactorsService, WebAuthnChallengesRepository, PasskeysService],
  exports: [SecondFactorsService, PasskeysService],
})
export class SecondFactorsModule {}
