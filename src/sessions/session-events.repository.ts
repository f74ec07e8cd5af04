import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model, trusted } from 'mongoose';
import type { PageRequest } from './sessions.repository';
import { SessionEvent, SessionEventDocument, SessionEventType } from './session-event.schema';

export interface EventFilter {
  type?: SessionEventType;
  userId?: string;
}

/** Reads of the event log; each query shape has its index (see the schema). */
@Injectable()
export class SessionEventsRepository {
  constructor(@InjectModel(SessionEvent.name) private readonly events: Model<SessionEvent>) {}

  async findPage(filter: EventFilter, { page, pageSize }: PageRequest): Promise<{ items: SessionEventDocument[]; total: number }> {
    const query = Object.fromEntries(Object.entries(filter).filter(([, value]) => value !== undefined));
    const [items, total] = await Promise.all([
      this.events.find(query).sort({ at: -1 }).skip((page - 1) * pageSize).limit(pageSize).exec(),
      this.events.countDocuments(query).exec(),
    ]);
    return { items, total };
  }

  countSince(type: SessionEventType, since: Date, reason?: string): Promise<number> {
    const query = { type, at: trusted({ $gte: since }), ...(reason === undefined ? {} : { reason }) };
    return this.events.countDocuments(query).exec();
  }
}
