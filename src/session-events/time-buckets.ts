const HOUR_MS = 60 * 60_000;
const DAY_MS = 24 * HOUR_MS;

export type Bucket = 'hour' | 'day';
export const BUCKET_MS: Record<Bucket, number> = { hour: HOUR_MS, day: DAY_MS };

/**
 * The UTC hour and day a moment falls in, stored beside each event and sample:
 * charts group on them in MongoDB (FerretDB has no $dateTrunc).
 */
export function bucketsOf(at: Date): Record<Bucket, Date> {
  const ms = at.getTime();
  return { hour: new Date(ms - (ms % HOUR_MS)), day: new Date(ms - (ms % DAY_MS)) };
}
