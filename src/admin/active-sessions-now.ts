import { Injectable } from '@nestjs/common';
import { setTimeout as delay } from 'node:timers/promises';
import type { ActiveSessionCount } from '../sessions/active-sessions-gauge.service';
import { ActiveSessionsGauge } from '../sessions/active-sessions-gauge.service';

/**
 * How long a page waits for a fresh count. On MongoDB the count is an index
 * scan and comes well within it; FerretDB reads every session to count, so
 * with many sessions the page shows the last count, with its time, instead.
 */
const FRESH_COUNT_WAIT_MS = 250;

/**
 * The active-session count as of the request, for pages that show it as
 * current. Each request starts a count through the gauge (one at a time,
 * shared by the requests that arrive meanwhile), which also keeps the metric
 * and the gauge's last count up to date for the next page.
 */
@Injectable()
export class ActiveSessionsNow {
  private counting?: Promise<void>;

  constructor(private readonly gauge: ActiveSessionsGauge) {}

  async count(): Promise<ActiveSessionCount> {
    this.counting ??= this.gauge.refresh().finally(() => (this.counting = undefined));
    await Promise.race([this.counting, delay(FRESH_COUNT_WAIT_MS, undefined, { ref: false })]);
    return this.gauge.current();
  }
}
