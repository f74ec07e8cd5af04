import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Collection } from 'mongodb';
import { Model, trusted } from 'mongoose';
import { PageRequest, pageWindow } from '../common/http/pagination';
import { ExpirySweeper } from '../database/expiry-sweeper.service';
import { SessionEvent, SessionEventDocument, SessionEventType } from './session-event.schema';
import type { Page } from './sessions.repository';

export interface EventFilter {
  type?: SessionEventType;
  userId?: string;
}

/** The one owner of `session_events`: writes, reads and indexes (one per query shape, see the schema). */
@Injectable()
export class SessionEventsRepository implements OnModuleInit {
  constructor(
    @InjectModel(SessionEvent.name) private readonly events: Model<SessionEvent>,
    private readonly sweeper: ExpirySweeper,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.events.createIndexes();
    await this.sweeper.expireBy(this.events.collection as unknown as Collection, 'expiresAt');
  }

  async insert(event: SessionEvent): Promise<void> {
    await this.events.create(event);
  }

  async findPage(filter: EventFilter, page: PageRequest): Promise<Page<SessionEventDocument>> {
    const query = Object.fromEntries(Object.entries(filter).filter(([, value]) => value !== undefined));
    const { skip, limit } = pageWindow(page);
    const [items, total] = await Promise.all([
      this.events.find(query).sort({ at: -1 }).skip(skip).limit(limit).exec(),
      this.events.countDocuments(query).exec(),
    ]);
    return { items, total };
  }

  /** The user's latest event of a type (served by the `{ userId, at }` index). */
  findLatest(type: SessionEventType, userId: string): Promise<SessionEventDocument | null> {
    return this.events.findOne({ userId, type }).sort({ at: -1 }).exec();
  }

  countSince(type: SessionEventType, since: Date, reason?: string): Promise<number> {
    const query = { type, at: trusted({ $gte: since }), ...(reason === undefined ? {} : { reason }) };
    return this.events.countDocuments(query).exec();
  }
}
