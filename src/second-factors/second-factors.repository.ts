import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { isValidObjectId, Model, trusted } from 'mongoose';
import { RecoveryCode, SecondFactor, SecondFactorDocument, SecondFactorType } from './second-factor.schema';

/**
 * The one owner of `second_factors` and `recovery_codes`. Every query names
 * the account, so one user's factor id or code is nobody else's; every write
 * that spends something (a code's time step, a recovery code) is one
 * conditional write, so of parallel requests with the same code one wins.
 */
@Injectable()
export class SecondFactorsRepository implements OnModuleInit {
  constructor(
    @InjectModel(SecondFactor.name) private readonly factors: Model<SecondFactor>,
    @InjectModel(RecoveryCode.name) private readonly codes: Model<RecoveryCode>,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.factors.createIndexes();
    await this.codes.createIndexes();
  }

  create(factor: SecondFactor): Promise<SecondFactorDocument> {
    return this.factors.create(factor);
  }

  findOfUser(userId: string, id: string): Promise<SecondFactorDocument | null> {
    return isValidObjectId(id) ? this.factors.findOne({ _id: id, userId }).exec() : Promise.resolve(null);
  }

  /** The account's confirmed factors, of one type or all, oldest first. */
  findConfirmed(userId: string, type?: SecondFactorType): Promise<SecondFactorDocument[]> {
    return this.factors
      .find({ userId, ...(type ? { type } : {}), confirmedAt: trusted({ $exists: true }) })
      .sort({ createdAt: 1 })
      .exec();
  }

  /** Enrolments started and never confirmed, of one type: replaced when a new one starts. */
  async deleteUnconfirmed(userId: string, type: SecondFactorType): Promise<void> {
    await this.factors.deleteMany({ userId, type, confirmedAt: trusted({ $exists: false }) }).exec();
  }

  /** Confirms an enrolment with the code of time step `step`; false when it was confirmed (or removed) meanwhile. */
  async confirmTotp(userId: string, id: string, step: number, at: Date): Promise<boolean> {
    const result = await this.factors
      .updateOne(
        { _id: id, userId, type: 'totp', confirmedAt: trusted({ $exists: false }) },
        { $set: { confirmedAt: at, lastUsedAt: at, 'totp.lastUsedStep': step } },
      )
      .exec();
    return result.modifiedCount === 1;
  }

  /** Spends time step `step` of a confirmed TOTP factor; false when that step (or a later one) was spent already. */
  async spendTotpStep(userId: string, id: string, step: number, at: Date): Promise<boolean> {
    const result = await this.factors
      .updateOne(
        { _id: id, userId, confirmedAt: trusted({ $exists: true }), 'totp.lastUsedStep': trusted({ $lt: step }) },
        { $set: { lastUsedAt: at, 'totp.lastUsedStep': step } },
      )
      .exec();
    return result.modifiedCount === 1;
  }

  async delete(userId: string, id: string): Promise<boolean> {
    if (!isValidObjectId(id)) return false;
    return (await this.factors.deleteOne({ _id: id, userId }).exec()).deletedCount === 1;
  }

  /** Every factor and recovery code of the account (an admin's reset); how many factors there were. */
  async deleteAllOfUser(userId: string): Promise<number> {
    const { deletedCount } = await this.factors.deleteMany({ userId }).exec();
    await this.deleteRecoveryCodes(userId);
    return deletedCount;
  }

  /** Replaces the account's recovery codes with these (stored by id, never the code). */
  async replaceRecoveryCodes(userId: string, ids: string[], at: Date): Promise<void> {
    await this.deleteRecoveryCodes(userId);
    await this.codes.insertMany(ids.map((_id) => ({ _id, userId, createdAt: at })));
  }

  async deleteRecoveryCodes(userId: string): Promise<void> {
    await this.codes.deleteMany({ userId }).exec();
  }

  /** Spends a recovery code by its id: true for the one call that deleted it. */
  async spendRecoveryCode(id: string): Promise<boolean> {
    return (await this.codes.deleteOne({ _id: id }).exec()).deletedCount === 1;
  }

  countRecoveryCodes(userId: string): Promise<number> {
    return this.codes.countDocuments({ userId }).exec();
  }

  /** Every passkey registered under this credential id, whoever's: normally one, and none for a stranger's. */
  findPasskeysByCredentialId(credentialId: string): Promise<SecondFactorDocument[]> {
    return this.factors.find({ 'passkey.credentialId': credentialId }).exec();
  }

  /**
   * Records a verified use of a passkey: its new signature counter, taken only
   * from the counter the check was made against, so of two assertions verified
   * against one counter one is recorded; false for the other (or a passkey
   * removed meanwhile).
   */
  async recordPasskeyUse(
    userId: string,
    id: string,
    use: { fromCounter: number; counter: number; backedUp: boolean; at: Date },
  ): Promise<boolean> {
    const result = await this.factors
      .updateOne(
        { _id: id, userId, type: 'passkey', 'passkey.counter': use.fromCounter },
        { $set: { lastUsedAt: use.at, 'passkey.counter': use.counter, 'passkey.backedUp': use.backedUp } },
      )
      .exec();
    return result.matchedCount === 1;
  }
}
