import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { RecoveryCode, RecoveryCodeSchema, SecondFactor, SecondFactorSchema } from './second-factor.schema';
import { SecondFactorsRepository } from './second-factors.repository';
import { SecondFactorsService } from './second-factors.service';

/** An account's second factors (`second_factors`) and recovery codes (`recovery_codes`); the repository stays inside. */
@Module({
  imports: [
    MongooseModule.forFeature([
      { name: SecondFactor.name, schema: SecondFactorSchema },
      { name: RecoveryCode.name, schema: RecoveryCodeSchema },
    ]),
  ],
  providers: [SecondFactorsRepository, SecondFactorsService],
  exports: [SecondFactorsService],
})
export class SecondFactorsModule {}
