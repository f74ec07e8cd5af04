/// <reference lib="dom" />
import * as Plot from '@observablehq/plot';
import { parseHTML } from 'linkedom';
import type { Bucket } from '../session-events/time-buckets';
import { BUCKET_MS } from '../session-events/time-buckets';
import { AdminTimeFormat, formatDuration } from './admin-time';

const HEIGHT = 240;
const CLASS_NAME = 'plot';

/** One series of a chart: the field it reads, what the legend calls it, its colour. */
export interface Series<K extends string> {
  key: K;
  label: string;
  color: string;
}

/**
 * A chart's name (its `data-chart`), what it shows (its accessible name), and what its count axis
 * counts; `one` is that for a count of one, where a dot's title names it ("1 active session").
 */
export interface ChartNames {
  name: string;
  label: string;
  counts: string;
  one?: string;
}

/** What the time axis of a chart spans and how its ticks read. */
export interface TimeAxis {
  from: Date;
  to: Date;
  bucket: Bucket;
  time: AdminTimeFormat;
}

interface Mark {
  at: Date;
  series: string;
  value: number;
}

/** Drawn twice: wide for screens, narrow with fewer time ticks for phones, where the wide one's text would be too small to read. */
const SIZES = [
  { size: 'wide', width: 640, xTicks: undefined },
  { size: 'narrow', width: 360, xTicks: 4 },
] as const;

/** Takes out every <style> element and style attribute Plot adds: the CSP allows styles from our stylesheet only. */
function withoutStyles<T extends Element>(element: T): T {
  for (const style of Array.from(element.querySelectorAll('style'))) style.remove();
  for (const styled of [element, ...Array.from(element.querySelectorAll('[style]'))]) styled.removeAttribute('style');
  return element;
}

/**
 * A chart as markup to put in the page: its legend, then its SVG in each
 * size, drawn by Plot into a server-side DOM (linkedom). The stylesheet
 * holds Plot's own rules under the class `plot`.
 */
function render(name: string, label: string, options: Plot.PlotOptions): string {
  const { document } = parseHTML('<!doctype html><html><body></body></html>');
  const svgs = SIZES.map(({ size, width, xTicks }) => {
    const x = xTicks === undefined ? options.x : { ...options.x, ticks: xTicks };
    const svg = Plot.plot({ ...options, x, document, className: CLASS_NAME, width, height: options.height ?? HEIGHT }) as SVGSVGElement &
      Plot.Plot;
    svg.setAttribute('class', `${CLASS_NAME} ${CLASS_NAME}-${size}`);
    svg.setAttribute('data-chart', name);
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', label);
    return svg;
  });
  const legend = svgs[0].legend('color', { className: CLASS_NAME });
  return [legend, ...svgs].map((part) => (part ? withoutStyles(part).outerHTML : '')).join('');
}

/** Whole-number ticks only: a count has no halves. */
function countAxis(label: string, max: number): Plot.ScaleOptions {
  return { label, grid: true, ticks: Math.min(Math.max(1, max), 5), tickFormat: 'd', nice: true };
}

function timeAxis({ from, to, bucket, time }: TimeAxis): Plot.ScaleOptions {
  return { type: 'utc', domain: [from, to], label: null, tickFormat: (at: Date) => time.format(at, bucket) };
}

/**
 * Stacked bars, one per hour or day, one segment per series; each segment's
 * <title> says its period, count and series. Empty segments are not drawn.
 */
export function stackedBarsChart<K extends string>(
  { name, label, counts }: ChartNames,
  rows: ({ at: string } & Record<K, number>)[],
  series: readonly Series<K>[],
  axis: TimeAxis,
): string {
  const marks: Mark[] = rows.flatMap((row) =>
    series
      .filter(({ key }) => row[key] > 0)
      .map(({ key, label: seriesLabel }) => ({ at: new Date(row.at), series: seriesLabel, value: row[key] })),
  );
  const max = Math.max(0, ...rows.map((row) => series.reduce((sum, { key }) => sum + row[key], 0)));
  const first = rows.length > 0 ? new Date(rows[0].at) : axis.from;
  const last = rows.length > 0 ? new Date(new Date(rows[rows.length - 1].at).getTime() + BUCKET_MS[axis.bucket]) : axis.to;
  return render(name, label, {
    x: timeAxis({ ...axis, from: first, to: last }),
    y: countAxis(counts, max),
    color: { domain: series.map((entry) => entry.label), range: series.map((entry) => entry.color) },
    marks: [
      Plot.rectY(marks, {
        x: 'at',
        interval: axis.bucket === 'day' ? 'day' : 'hour',
        y: 'value',
        fill: 'series',
        order: series.map((entry) => entry.label),
        insetLeft: 1,
        insetRight: 1,
        title: (mark: Mark) => `${axis.time.format(mark.at, axis.bucket)}: ${mark.value} ${mark.series}`,
      }),
      Plot.ruleY([0]),
    ],
  });
}

/** A count over time as a line with a dot per sample, each dot titled with its time and count. */
export function lineChart(
  { name, label, counts, one = counts }: ChartNames,
  samples: { at: string; value: number }[],
  color: string,
  axis: TimeAxis,
): string {
  const points = samples.map((sample) => ({ at: new Date(sample.at), value: sample.value, series: counts }));
  const max = Math.max(0, ...samples.map((sample) => sample.value));
  return render(name, label, {
    x: timeAxis(axis),
    y: countAxis(counts, max),
    color: { domain: [counts], range: [color] },
    marks: [
      Plot.ruleY([0]),
      Plot.lineY(points, { x: 'at', y: 'value', stroke: 'series', strokeWidth: 2 }),
      Plot.dot(points, {
        x: 'at',
        y: 'value',
        fill: 'series',
        r: 3,
        title: (point: (typeof points)[number]) =>
          `${axis.time.format(point.at, 'hour')}: ${point.value} ${point.value === 1 ? one : counts}`,
      }),
    ],
  });
}

const LENGTH_UNITS = [
  { symbol: 's', ms: 1000, upTo: 2 * 60_000 },
  { symbol: 'min', ms: 60_000, upTo: 2 * 60 * 60_000 },
  { symbol: 'h', ms: 60 * 60_000, upTo: Infinity },
];

/** The five figures of a box plot of session lengths, in ms. */
export interface LengthQuantiles {
  p5Ms: number;
  p25Ms: number;
  medianMs: number;
  p75Ms: number;
  p95Ms: number;
}

interface BoxPart {
  part: string;
  from: number;
  to: number;
  title: string;
}

const BOX_PARTS = { whiskers: '5th to 95th percentile', box: 'quartiles', median: 'median' };

/**
 * How long ended sessions lasted, as a box plot: whiskers from the 5th to the
 * 95th percentile, a box over the middle half (first to third quartile) and a
 * tick at the median, each titled with its figures, on an axis in seconds,
 * minutes or hours, whichever suits the 95th percentile.
 */
export function sessionLengthChart({ name, label }: Omit<ChartNames, 'counts'>, lengths: LengthQuantiles): string {
  const unit = LENGTH_UNITS.find((candidate) => lengths.p95Ms < candidate.upTo) ?? LENGTH_UNITS[LENGTH_UNITS.length - 1];
  const { p5Ms, p25Ms, medianMs, p75Ms, p95Ms } = lengths;
  const inUnit = (ms: number) => ms / unit.ms;
  const whiskers: BoxPart[] = [
    { part: BOX_PARTS.whiskers, from: p5Ms, to: p25Ms, title: `1 in 20 ended within ${formatDuration(p5Ms)}` },
    { part: BOX_PARTS.whiskers, from: p75Ms, to: p95Ms, title: `19 in 20 ended within ${formatDuration(p95Ms)}` },
  ];
  const box: BoxPart = {
    part: BOX_PARTS.box,
    from: p25Ms,
    to: p75Ms,
    title: `the middle half lasted ${formatDuration(p25Ms)} to ${formatDuration(p75Ms)}`,
  };
  const median: BoxPart = { part: BOX_PARTS.median, from: medianMs, to: medianMs, title: `half ended within ${formatDuration(medianMs)}` };
  const x1 = (part: BoxPart) => inUnit(part.from);
  const x2 = (part: BoxPart) => inUnit(part.to);
  const title = (part: BoxPart) => part.title;
  return render(name, label, {
    height: 100,
    marginLeft: 20,
    marginRight: 20,
    x: {
      label: 'session length',
      grid: true,
      nice: true,
      zero: true,
      tickFormat: (value: number) => (value === 0 ? '0' : `${value} ${unit.symbol}`),
    },
    y: { axis: null, domain: ['sessions'] },
    color: { domain: Object.values(BOX_PARTS), range: ['#546e7a', '#90caf9', '#0d47a1'] },
    marks: [
      Plot.ruleY(whiskers, { x1, x2, y: () => 'sessions', stroke: 'part', strokeWidth: 2, title }),
      Plot.barX([box], { x1, x2, y: () => 'sessions', fill: 'part', insetTop: 12, insetBottom: 12, title }),
      Plot.tickX([median], { x: x1, y: () => 'sessions', stroke: 'part', strokeWidth: 3, inset: 12, title }),
    ],
  });
}
