import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Collection } from 'mongodb';
import { Model, trusted } from 'mongoose';
import { Page, PageRequest, pageWindow } from '../common/http/pagination';
import { ExpirySweeper } from '../database/expiry-sweeper.service';
import { EventCount, SessionEvent, SessionEventDocument, SessionEventType, SessionLengths } from './session-event.schema';
import type { Bucket } from './time-buckets';
import { DUPLICATE_KEY } from '../database/database.constants';

/** Events that end a session and carry its length. */
const ENDING_TYPES: SessionEventType[] = ['logout', 'session.expired', 'session.revoked', 'session.anomaly'];
/** Events of sign-ins that failed on an account: a wrong password (or a disabled account), a lock. */
const FAILED_SIGN_IN_TYPES: SessionEventType[] = ['login.failed', 'login.locked'];

const LENGTH_QUANTILES = { p5Ms: 0.05, p25Ms: 0.25, medianMs: 0.5, p75Ms: 0.75, p90Ms: 0.9, p95Ms: 0.95 } as const;

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
    await this.sweeper.expireBy(this.collection(), 'expiresAt');
  }

  /** The driver's collection: Mongoose's own type of it is not the driver's. */
  private collection(): Collection {
    return this.events.collection as unknown as Collection;
  }

  /**
   * Several at once in one command (the expiry pass records a batch
   * together). An event whose `_id` is taken was recorded already (see
   * `endingEventId`): skipped, the others still written. Returns the
   * positions in `events` of those skipped.
   */
  async insert(events: SessionEvent[]): Promise<Set<number>> {
    try {
      // Through the driver: a Mongoose document per event held the request thread for tens of
      // milliseconds per batch of the expiry pass. The schema's defaults are applied here, the
      // compiler checks the rest, and an undefined field is left out as Mongoose would leave it.
      await this.collection().insertMany(
        events.map((event) => this.events.applyDefaults(event)),
        { ordered: false, ignoreUndefined: true },
      );
      return new Set();
    } catch (error) {
      if (!onlyDuplicates(error)) throw error;
      return duplicatePositions(error, events.length);
    }
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

  /**
   * How many events of each type and reason per hour or day since `since`,
   * counted in MongoDB (a 30-day range never loads events into the app). An
   * emergency sign-out is counted through the `session.revoked` of each
   * session it ended, not its summary.
   */
  async countsByBucket(since: Date, bucket: Bucket): Promise<EventCount[]> {
    // One accumulator per $group: FerretDB 1.24 computes only the first.
    const events = await this.events
      .aggregate<{ _id: { at: Date; type: SessionEventType; reason?: string; by?: string; method?: string }; n: number }>([
        { $match: { at: trusted({ $gte: since }), type: trusted({ $ne: 'session.revoked_all' }) } },
        { $group: { _id: { at: `$${bucket}`, type: '$type', reason: '$reason', by: '$by', method: '$method' }, n: { $sum: 1 } } },
      ])
      .exec();
    return events.map(({ _id, n }) => ({ ..._id, at: new Date(_id.at), count: n }));
  }

  /**
   * Quantiles of how long ended sessions lasted, each the duration at its rank
   * in length order, read one per quantile: MongoDB walks the `{ type,
   * durationMs, at }` index to the rank (a range on `durationMs` rather than
   * `$exists` keeps that covered) and never loads or sorts the events.
   */
  async sessionLengths(since: Date): Promise<SessionLengths> {
    const match = {
      $match: { type: trusted({ $in: ENDING_TYPES }), at: trusted({ $gte: since }), durationMs: trusted({ $gte: 0 }) },
    };
    const [counted] = await this.events.aggregate<{ n: number }>([match, { $count: 'n' }]).exec();
    const count = counted?.n ?? 0;
    if (count === 0) return { count };
    const at = async (rank: number) =>
      // Should MongoDB sort a month of endings in memory instead, let it spill to disk rather than fail.
      (
        await this.events
          .aggregate<{ durationMs: number }>([
            match,
            { $sort: { durationMs: 1 } },
            { $skip: rank },
            { $limit: 1 },
            { $project: { _id: 0, durationMs: 1 } },
          ])
          .allowDiskUse(true)
          .exec()
      )[0]?.durationMs;
    const quantiles = Object.entries(LENGTH_QUANTILES) as [keyof typeof LENGTH_QUANTILES, number][];
    const values = await Promise.all(quantiles.map(([, q]) => at(Math.floor(q * (count - 1)))));
    return { count, ...Object.fromEntries(quantiles.map(([key], i) => [key, values[i]])) };
  }

  /**
   * The values of `field` (IP, user agent) that failed sign-ins since `since`
   * came from, ranked by how many accounts they failed on (a wrong password,
   * or a lock of the account or of a known browser), not by attempts: a
   * source that hammers one account counts one, however long it keeps going,
   * and cannot push out sources that failed on several. An IP's own lock
   * names no account and adds nothing.
   */
  async topOfFailedSignIns(field: 'userAgent' | 'ip', since: Date, limit: number): Promise<{ value: string; count: number }[]> {
    const rows = await this.events
      .aggregate<{ _id: string; n: number }>([
        {
          $match: {
            type: trusted({ $in: FAILED_SIGN_IN_TYPES }),
            at: trusted({ $gte: since }),
            $or: [{ userId: trusted({ $exists: true }) }, { emailHash: trusted({ $exists: true }) }],
          },
        },
        // Each (source, account) once, then how many per source: one accumulator per $group, as FerretDB needs.
        { $group: { _id: { value: `$${field}`, userId: '$userId', emailHash: '$emailHash' } } },
        { $group: { _id: '$_id.value', n: { $sum: 1 } } },
        { $sort: { n: -1, _id: 1 } },
        { $limit: limit },
      ])
      .exec();
    return rows.map((row) => ({ value: row._id, count: row.n }));
  }

  countSince(type: SessionEventType, since: Date, reason?: string): Promise<number> {
    const query = { type, at: trusted({ $gte: since }), ...(reason === undefined ? {} : { reason }) };
    return this.events.countDocuments(query).exec();
  }
}

function onlyDuplicates(error: unknown): boolean {
  const { code, writeErrors } = error as { code?: number; writeErrors?: { code?: number }[] };
  return writeErrors?.length ? writeErrors.every((failure) => failure.code === DUPLICATE_KEY) : code === DUPLICATE_KEY;
}

/**
 * Where the skipped events were: each write error names its position. An
 * error without them names none: the one event sent, else none known.
 */
function duplicatePositions(error: unknown, sent: number): Set<number> {
  const { writeErrors } = error as { writeErrors?: { index: number }[] };
  if (writeErrors?.length) return new Set(writeErrors.map((failure) => failure.index));
  return new Set(sent === 1 ? [0] : []);
}
