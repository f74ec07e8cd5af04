import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Collection } from 'mongodb';
import { Model } from 'mongoose';
import { ExpirySweeper } from '../database/expiry-sweeper.service';
import { WebAuthnChallenge } from './webauthn-challenge.schema';

/**
 * The one owner of `webauthn_challenges`. A challenge is taken by one
 * findOneAndDelete on `_id` alone (the one filter FerretDB answers through its
 * index), so of two answers with the same challenge, on any instances, one
 * gets it. Expired ones leave by TTL index, or the sweep on FerretDB; until
 * then the taker checks `expiresAt`.
 */
@Injectable()
export class WebAuthnChallengesRepository implements OnModuleInit {
  constructor(
    @InjectModel(WebAuthnChallenge.name) private readonly challenges: Model<WebAuthnChallenge>,
    private readonly sweeper: ExpirySweeper,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.sweeper.expireBy(this.challenges.collection as unknown as Collection, 'expiresAt');
  }

  async insert(challenge: WebAuthnChallenge): Promise<void> {
    await this.challenges.create(challenge);
  }

  /** The challenge, deleted in the same command; null when unknown or already taken. */
  take(id: string): Promise<WebAuthnChallenge | null> {
    return this.challenges.findOneAndDelete({ _id: id }).lean<WebAuthnChallenge>().exec();
  }
}
