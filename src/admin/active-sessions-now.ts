import { Injectable } from '@nestjs/common';
import type { ActiveSessionCount } from '../sessions/active-sessions-gauge.service';
import { ActiveSessionsGauge } from '../sessions/active-sessions-gauge.service';

/**
 * The active-session count as of the request, for pages that show it as
 * current: counted at render (the same count /admin/sessions makes for its
 * total), and kept by the gauge for the metric. Should the count fail, the
 * gauge's last one stands, with the time it was made.
 */
@Injectable()
export class ActiveSessionsNow {
  constructor(private readonly gauge: ActiveSessionsGauge) {}

  async count(): Promise<ActiveSessionCount> {
    await this.gauge.refresh();
    return this.gauge.current();
  }
}
