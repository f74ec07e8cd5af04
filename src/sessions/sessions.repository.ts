import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type { Collection, Filter } from 'mongodb';
import { HashedMongoStore, SessionDocument } from './hashed-mongo-store';
import { SESSION_STORE } from './session.constants';
import { EXPIRED_SESSION_RETENTION_MS } from './session-expiry-policy';

export interface PageRequest {
  page: number;
  pageSize: number;
}

export interface Page<T> {
  items: T[];
  total: number;
}

/** Only what lists need: never the whole session. */
const SUMMARY_PROJECTION = {
  'session.userId': 1,
  'session.createdAt': 1,
  'session.lastActivityAt': 1,
  'session.ip': 1,
  'session.userAgent': 1,
} as const;

/**
 * Queries over the `sessions` collection. "Active" means neither deadline has
 * passed: the TTL field is the first deadline plus a fixed retention, so the
 * test is one indexed range on `expires`. Every list is one index per query
 * shape on MongoDB (asserted by a test on the index list), bounded by a page.
 */
@Injectable()
export class SessionsRepository implements OnModuleInit {
  constructor(@Inject(SESSION_STORE) private readonly store: HashedMongoStore) {}

  async onModuleInit(): Promise<void> {
    const sessions = await this.collection();
    await sessions.createIndex({ 'session.userId': 1, expires: -1 });
  }

  findById(id: string): Promise<SessionDocument | null> {
    return this.collection().then((sessions) => sessions.findOne({ _id: id }));
  }

  findActiveByUser(userId: string, page: PageRequest): Promise<Page<SessionDocument>> {
    return this.findActivePage({ 'session.userId': userId }, page);
  }

  findActive(page: PageRequest, userId?: string): Promise<Page<SessionDocument>> {
    return this.findActivePage(userId ? { 'session.userId': userId } : {}, page);
  }

  async countActive(): Promise<number> {
    return (await this.collection()).countDocuments(this.activeFilter({}));
  }

  /** Every active session of a user but `exceptId` (all of them when it is unset), summaries only. */
  async findActiveOfUser(userId: string, exceptId?: string): Promise<SessionDocument[]> {
    const sessions = await this.collection();
    return sessions
      .find(this.activeFilter({ 'session.userId': userId }), { projection: SUMMARY_PROJECTION })
      .toArray()
      .then((documents) => documents.filter((document) => document._id !== exceptId));
  }

  async deleteById(id: string): Promise<boolean> {
    return (await (await this.collection()).deleteOne({ _id: id })).deletedCount === 1;
  }

  async deleteByIds(ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return (await (await this.collection()).deleteMany({ _id: { $in: ids } })).deletedCount;
  }

  private async findActivePage(filter: Filter<SessionDocument>, { page, pageSize }: PageRequest): Promise<Page<SessionDocument>> {
    const sessions = await this.collection();
    const query = this.activeFilter(filter);
    const [items, total] = await Promise.all([
      // Newest deadline first: the most recently active sessions, straight off the index.
      sessions
        .find(query, { projection: SUMMARY_PROJECTION, sort: { expires: -1 }, skip: (page - 1) * pageSize, limit: pageSize })
        .toArray(),
      sessions.countDocuments(query),
    ]);
    return { items, total };
  }

  private activeFilter(filter: Filter<SessionDocument>): Filter<SessionDocument> {
    return { ...filter, expires: { $gt: new Date(Date.now() + EXPIRED_SESSION_RETENTION_MS) } };
  }

  private collection(): Promise<Collection<SessionDocument>> {
    return this.store.collection;
  }
}
