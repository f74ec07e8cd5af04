import type { Bucket } from '../session-events/time-buckets';

const MINUTE_MS = 60_000;

/**
 * Times as the admin console shows them: short, local-looking ('Mon 14:00',
 * 'Mon 30 Nov') and all in the one configured zone, which each page names.
 */
export class AdminTimeFormat {
  private readonly hour: Intl.DateTimeFormat;
  private readonly day: Intl.DateTimeFormat;
  private readonly moment: Intl.DateTimeFormat;
  private readonly year: Intl.DateTimeFormat;

  constructor(readonly zone: string) {
    // en-GB: a 24-hour clock and the day before the month, the shortest forms that read the same everywhere.
    this.hour = new Intl.DateTimeFormat('en-GB', {
      timeZone: zone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    this.day = new Intl.DateTimeFormat('en-GB', { timeZone: zone, weekday: 'short', day: 'numeric', month: 'short' });
    this.moment = new Intl.DateTimeFormat('en-GB', {
      timeZone: zone,
      weekday: 'short',
      day: 'numeric',
      month: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    this.year = new Intl.DateTimeFormat('en-GB', { timeZone: zone, year: 'numeric' });
  }

  /** An hour as 'Mon 14:00', a day as 'Mon 30 Nov'. */
  format(at: Date | string, bucket: Bucket = 'hour'): string {
    const date = typeof at === 'string' ? new Date(at) : at;
    return (bucket === 'day' ? this.day : this.hour).format(date).replace(',', '');
  }

  /** A moment as 'Mon 30 Nov 14:00', with its year after the month when that is not this year's. */
  dateTime(at: Date | string, now = new Date()): string {
    const date = typeof at === 'string' ? new Date(at) : at;
    if (Number.isNaN(date.getTime())) return '';
    const parts = this.moment.formatToParts(date);
    const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((entry) => entry.type === type)?.value ?? '';
    const year = this.year.format(date);
    const day = `${part('weekday')} ${part('day')} ${part('month')}${year === this.year.format(now) ? '' : ` ${year}`}`;
    return `${day} ${part('hour')}:${part('minute')}`;
  }
}

/** A length of time as people say it: '45 s', '12 min', '3 h 05 min'. */
export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(ms / MINUTE_MS);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}
