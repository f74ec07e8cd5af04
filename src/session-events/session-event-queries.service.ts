import { Injectable } from '@nestjs/common';
import type { Page, PageRequest } from '../common/http/pagination';
import type { EventCount, SessionEventDocument, SessionLengths } from './session-event.schema';
import { EventFilter, SessionEventsRepository } from './session-events.repository';
import type { Bucket } from './time-buckets';

/** The admin overview's counts of the last day. */
export interface RecentEventCounts {
  signIns: number;
  failures: number;
  expiredByInactivity: number;
  expiredByAbsolute: number;
}

/**
 * What other modules read of the event log (the admin console, analytics,
 * the dashboard); writes go through SessionEventsService.
 */
@Injectable()
export class SessionEventQueries {
  constructor(private readonly repository: SessionEventsRepository) {}

  async countsSince(since: Date): Promise<RecentEventCounts> {
    const [signIns, failures, expiredByInactivity, expiredByAbsolute] = await Promise.all([
      this.repository.countSince('login.succeeded', since),
      this.repository.countSince('login.failed', since),
      this.repository.countSince('session.expired', since, 'inactivity'),
      this.repository.countSince('session.expired', since, 'absolute'),
    ]);
    return { signIns, failures, expiredByInactivity, expiredByAbsolute };
  }

  /** Newest first. */
  page(filter: EventFilter, page: PageRequest): Promise<Page<SessionEventDocument>> {
    return this.repository.findPage(filter, page);
  }

  /** The user's latest sign-in from a browser without their device cookie. */
  latestNewDevice(userId: string): Promise<SessionEventDocument | null> {
    return this.repository.findLatest('login.new_device', userId);
  }

  countsByBucket(since: Date, bucket: Bucket): Promise<EventCount[]> {
    return this.repository.countsByBucket(since, bucket);
  }

  sessionLengths(since: Date): Promise<SessionLengths> {
    return this.repository.sessionLengths(since);
  }

  topOfFailedSignIns(field: 'userAgent' | 'ip', since: Date, limit: number): Promise<{ value: string; count: number }[]> {
    return this.repository.topOfFailedSignIns(field, since, limit);
  }
}
