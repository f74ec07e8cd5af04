import type { NestExpressApplication } from '@nestjs/platform-express';
import { MetricsService } from '../../src/metrics/metrics.service';

/**
 * The value of a metric's sample whose labels include `labels` (0 when there
 * is none), read from the app's registry. `name` may also be a histogram's
 * `_count` or `_sum`.
 */
export async function metricValue(app: NestExpressApplication, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metrics = await app.get(MetricsService).registry.getMetricsAsJSON();
  const samples = metrics.flatMap((metric) =>
    metric.values.map((value) => ({ ...value, metricName: (value as { metricName?: string }).metricName ?? metric.name })),
  );
  const sample = samples.find(
    (value) => value.metricName === name && Object.entries(labels).every(([key, expected]) => value.labels[key] === expected),
  );
  return Number(sample?.value ?? 0);
}
