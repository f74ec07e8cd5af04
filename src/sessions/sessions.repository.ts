import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Collection, Filter } from 'mongodb';
import type { Connection } from 'mongoose';
import { Page, PageRequest, pageWindow } from '../common/http/pagination';
import { ExpirySweeper } from '../database/expiry-sweeper.service';
import { RecentSessionsCache } from './recent-sessions.cache';
import { SESSION_COLLECTION, SESSION_READ_CACHE_ENTRIES, SESSION_READ_CACHE_MS } from './session.constants';
import type { ExpiryReason } from '../session-events/ending';
import { EXPIRED_SESSION_RETENTION_MS, SessionExpiryPolicy } from './session-expiry-policy';
import type { Ending } from '../session-events/ending';
import { endedReasonOf } from './session-ending';
import type { SessionDocument } from './session-document';

/**
 * On a replica set: a session is read from the primary (a secondary may not
 * have seen its revocation yet, whatever the connection string prefers), and
 * its creation and deletion are acknowledged by a majority, so a failover can
 * neither lose a sign-in nor bring back a revoked session.
 */
const FROM_PRIMARY = { readPreference: 'primary' } as const;
const BY_MAJORITY = { writeConcern: { w: 'majority' } } as const;

/** Only what lists need: never the whole session. */
const SUMMARY_PROJECTION = {
  'session.userId': 1,
  'session.createdAt': 1,
  'session.lastActivityAt': 1,
  'session.ip': 1,
  'session.userAgent': 1,
  'session.stamp': 1,
  'session.movedFrom': 1,
  'session.amr': 1,
  'session.pending': 1,
} as const;

/** The TTL field is the first deadline plus the retention: a first deadline at or before `now` means this. */
function firstDeadlinePassedBy(now: Date): Date {
  return new Date(now.getTime() + EXPIRED_SESSION_RETENTION_MS);
}

/**
 * Live: not marked ended and before its first deadline. Every transition out
 * of it is one write on `_id` plus this state, so only one writer wins.
 */
function live(now: Date): Filter<SessionDocument> {
  return { 'session.endedReason': { $exists: false }, expires: { $gt: firstDeadlinePassedBy(now) } };
}

/** Due: past its first deadline with nobody having recorded the end yet. */
function due(now: Date): Filter<SessionDocument> {
  return { 'session.endedReason': { $exists: false }, expires: { $lte: firstDeadlinePassedBy(now) } };
}

/** Marked by a pass that still had not recorded it by `markedBefore` (its token stays until it has). */
function unrecordedMark(markedBefore: Date): Filter<SessionDocument> {
  return { 'session.endedBy': { $exists: true }, 'session.markedAt': { $lte: markedBefore } };
}

/**
 * The one owner of the `sessions` collection: every query, write and index.
 * Writes are by exact `_id` and never upsert: a document is created only by
 * `insert` at sign-in, so nothing can bring an ended session back. "Active"
 * means neither deadline has passed: the TTL field is the first deadline plus
 * a fixed retention, so the test is one indexed range on `expires`. Every list
 * has an index for its shape (asserted by a test on the index list).
 */
@Injectable()
export class SessionsRepository implements OnModuleInit {
  /** False where the server has no TTL indexes (FerretDB): ExpirySweeper deletes instead. */
  expiresNatively = false;
  private readonly recent = new RecentSessionsCache(SESSION_READ_CACHE_MS, SESSION_READ_CACHE_ENTRIES);

  constructor(
    @InjectConnection() private readonly connection: Connection,
    private readonly policy: SessionExpiryPolicy,
    private readonly sweeper: ExpirySweeper,
  ) {}

  async onModuleInit(): Promise<void> {
    this.expiresNatively = await this.sweeper.expireBy(this.collection() as unknown as Collection, 'expires');
    await this.collection().createIndex({ 'session.userId': 1, expires: -1 });
    // The expiry pass: unmarked sessions by first deadline (on MongoDB `$exists: false` is an index bound on null),
    // and marks a failed pass left unrecorded.
    await this.collection().createIndex({ 'session.endedReason': 1, expires: 1 });
    await this.collection().createIndex({ 'session.endedBy': 1, 'session.markedAt': 1 });
  }

  insert(document: Omit<SessionDocument, 'expires'>): Promise<unknown> {
    return this.collection().insertOne({ ...document, expires: this.policy.storageExpiry(document.session) }, BY_MAJORITY);
  }

  /**
   * By `_id` alone, expired or not: the caller enforces the deadlines and can
   * say why one ended. A session read in the last second is served from memory
   * (RecentSessionsCache); its timestamps are then at most that old, so a
   * deadline is never found later than it is.
   */
  findById(id: string): Promise<SessionDocument | null> {
    return this.recent.read(id, (_id) => this.collection().findOne({ _id }, FROM_PRIMARY));
  }

  /** Moves the idle deadline of a live session; one that ended meanwhile stays ended. */
  async recordActivity(id: string, createdAt: Date, at: Date): Promise<boolean> {
    const result = await this.changing(id, () =>
      this.collection().updateOne(
        { _id: id, ...live(at) },
        {
          $set: { 'session.lastActivityAt': at, expires: this.policy.storageExpiry({ createdAt, lastActivityAt: at }) },
        },
      ),
    );
    // Matched is what says live: a write carrying the moment another just wrote changes nothing, and the session is still live.
    return result.matchedCount === 1;
  }

  /**
   * Marks the sessions of `ids` ended by the expiry pass, each only while it is
   * still past its first deadline and not marked yet, in one write; returns the
   * ids this call marked. Each document's change is atomic and carries `pass`,
   * a token of this call, so racing passes (or instances) each learn exactly
   * which sessions were theirs to record. The token stays until markRecorded.
   */
  async markEnded(ids: string[], reason: ExpiryReason, pass: string, now = new Date()): Promise<string[]> {
    if (ids.length === 0) return [];
    const forget = () => ids.forEach((id) => this.recent.forget(id));
    await this.around(forget, () =>
      this.collection().updateMany(
        { _id: { $in: ids }, ...due(now) },
        { $set: { 'session.endedReason': reason, 'session.endedBy': pass, 'session.markedAt': now } },
        BY_MAJORITY,
      ),
    );
    return (await this.markedBy(ids, pass)).map((document) => document._id);
  }

  /** The ends of these sessions, marked by `pass`, are recorded: no later pass takes them over. */
  async markRecorded(ids: string[], pass: string): Promise<void> {
    if (ids.length === 0) return;
    await this.collection().updateMany({ _id: { $in: ids }, 'session.endedBy': pass }, { $unset: { 'session.endedBy': 1 } });
  }

  /**
   * Of `ids`, the sessions a pass marked before `markedBefore` but never
   * recorded (it failed in between): taken over by `pass` with one
   * conditional write, so of racing takers one gets each.
   */
  async claimUnrecorded(ids: string[], pass: string, markedBefore: Date): Promise<SessionDocument[]> {
    if (ids.length === 0) return [];
    await this.collection().updateMany({ _id: { $in: ids }, ...unrecordedMark(markedBefore) }, { $set: { 'session.endedBy': pass } });
    return this.markedBy(ids, pass);
  }

  private markedBy(ids: string[], pass: string): Promise<SessionDocument[]> {
    return this.collection()
      .find(
        { _id: { $in: ids }, 'session.endedBy': pass },
        { projection: { ...SUMMARY_PROJECTION, 'session.endedReason': 1, 'session.ending': 1 }, ...FROM_PRIMARY },
      )
      .toArray();
  }

  /**
   * Marks one session ended by `ending`, with `token`, while it is `state`
   * (live, or due: past its deadline with nobody having marked it) and `also`
   * matches; true when this call marked it, so the caller, and only it,
   * records the end and then removes it (deleteRecorded). One conditional
   * write on `_id`: of racing enders one wins. A mark its ender never recorded
   * is taken over by the expiry pass (claimUnrecorded), which records `ending`.
   */
  async markEnding(
    id: string,
    ending: Ending,
    token: string,
    { state, also = {} }: { state: 'live' | 'due'; also?: Filter<SessionDocument> },
    now = new Date(),
  ): Promise<boolean> {
    const filter = { _id: id, ...(state === 'live' ? live(now) : due(now)), ...also };
    const mark = {
      'session.endedReason': endedReasonOf(ending),
      'session.endedBy': token,
      'session.markedAt': now,
      'session.ending': ending,
    };
    const result = await this.changing(id, () => this.collection().updateOne(filter, { $set: mark }, BY_MAJORITY));
    return result.matchedCount === 1;
  }

  /** Removes a session whose end was recorded under `token`. */
  async deleteRecorded(id: string, token: string): Promise<void> {
    await this.changing(id, () => this.collection().deleteOne({ _id: id, 'session.endedBy': token }, BY_MAJORITY));
  }

  /**
   * Moves a live session from credential stamp `from` (the empty stamp: none)
   * to `to`, noting `from` (see leftBehind); false when it is no longer live
   * under `from`.
   */
  async restamp(id: string, from: string, to: string): Promise<boolean> {
    const under = from === '' ? { $in: ['', null] } : from;
    const result = await this.changing(id, () =>
      this.collection().updateOne(
        { _id: id, ...live(new Date()), 'session.stamp': under },
        { $set: { 'session.stamp': to, 'session.movedFrom': from } },
        BY_MAJORITY,
      ),
    );
    return result.matchedCount === 1;
  }

  /** A user's name or email changed: their live sessions show it from the next request on (ended ones stay as they ended). */
  async refreshUser(user: { id: string; email: string; name: string }): Promise<void> {
    const forget = () => this.recent.forgetUser(user.id);
    await this.around(forget, () =>
      this.collection().updateMany(
        { 'session.userId': user.id, ...live(new Date()) },
        { $set: { 'session.email': user.email, 'session.name': user.name } },
      ),
    );
  }

  /** A page of active sessions, of one user or everyone's, most recently active first. */
  async findActivePage(page: PageRequest, userId?: string): Promise<Page<SessionDocument>> {
    const query = this.activeFilter(userId ? { 'session.userId': userId } : {});
    const [items, total] = await Promise.all([
      // Newest deadline first: the most recently active sessions, straight off the index.
      this.collection()
        .find(query, { projection: SUMMARY_PROJECTION, sort: { expires: -1 }, ...pageWindow(page) })
        .toArray(),
      this.collection().countDocuments(query),
    ]);
    return { items, total };
  }

  /**
   * Every session whose first deadline has passed (its TTL field is that
   * deadline plus the retention) and that the pass has not marked ended yet,
   * and every mark made before `markedBefore` whose end was never recorded,
   * read `batchSize` at a time through one cursor: one scan on FerretDB, an
   * index for each branch on MongoDB.
   */
  pastDeadline(batchSize: number, markedBefore: Date, now = new Date()): AsyncIterable<SessionDocument> {
    return this.collection().find(
      {
        $or: [due(now), unrecordedMark(markedBefore)],
      },
      { projection: { ...SUMMARY_PROJECTION, expires: 1, 'session.endedReason': 1 }, batchSize },
    );
  }

  /** Up to `limit` active sessions with an id after `afterId`, in id order (a walk over everyone's sessions). */
  findActiveAfter(afterId: string, limit: number): Promise<SessionDocument[]> {
    return this.collection()
      .find(this.activeFilter({ _id: { $gt: afterId } }), { projection: SUMMARY_PROJECTION, sort: { _id: 1 }, limit })
      .toArray();
  }

  countActive(): Promise<number> {
    return this.collection().countDocuments(this.activeFilter({}));
  }

  /** Every active session of a user but `exceptId` (all of them when it is unset), summaries only. */
  async findActiveOfUser(userId: string, exceptId?: string): Promise<SessionDocument[]> {
    const documents = await this.collection()
      .find(this.activeFilter({ 'session.userId': userId }), { projection: SUMMARY_PROJECTION })
      .toArray();
    return documents.filter((document) => document._id !== exceptId);
  }

  private changing<T>(id: string, write: () => Promise<T>): Promise<T> {
    return this.around(() => this.recent.forget(id), write);
  }

  /**
   * The read cache forgets before a write (this instance stops serving the old
   * state at once) and after it (a read that ran during the write is not kept).
   */
  private async around<T>(forget: () => void, write: () => Promise<T>): Promise<T> {
    forget();
    try {
      return await write();
    } finally {
      forget();
    }
  }

  private activeFilter(filter: Filter<SessionDocument>): Filter<SessionDocument> {
    return { ...filter, ...live(new Date()) };
  }

  private collection(): Collection<SessionDocument> {
    const db = this.connection.db;
    if (!db) throw new Error('MongoDB connection is not open');
    return db.collection<SessionDocument>(SESSION_COLLECTION);
  }
}
