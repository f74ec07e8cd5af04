import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { AdminTimeFormat } from './admin-time';
import { lineChart, sessionLengthChart, stackedBarsChart } from './analytics-plots';

const time = new AdminTimeFormat('UTC');
const hourAt = (hour: number) => new Date(Date.UTC(2026, 10, 30, hour)).toISOString();
const axis = { from: new Date(hourAt(0)), to: new Date(hourAt(3)), bucket: 'hour' as const, time };
/** The markup of the chart drawn in one size (each is drawn wide and narrow). */
const drawn = (markup: string, size: 'wide' | 'narrow') =>
  markup.match(new RegExp(`<svg[^>]*plot-${size}[^]*?</svg>(?=<svg|$)`))?.[0] ?? '';

const SERIES = [
  { key: 'a', label: 'alpha', color: '#111111' },
  { key: 'b', label: 'beta', color: '#222222' },
] as const;

describe('stackedBarsChart', () => {
  const sut = stackedBarsChart(
    { name: 'test', label: 'Things per hour', counts: 'things' },
    [
      { at: hourAt(0), a: 2, b: 1 },
      { at: hourAt(1), a: 0, b: 0 },
      { at: hourAt(2), a: 1, b: 0 },
    ],
    SERIES,
    axis,
  );

  it('draws one titled rectangle per non-empty segment, in each size', () => {
    expect(drawn(sut, 'wide').match(/<rect[^>]*><title>/g)).toHaveLength(3);
    expect(drawn(sut, 'narrow').match(/<rect[^>]*><title>/g)).toHaveLength(3);
    expect(sut).toContain('<title>Mon 00:00: 2 alpha</title>');
    expect(sut).toContain('<title>Mon 02:00: 1 alpha</title>');
  });

  it('has time ticks in the given zone, whole-number count ticks and a legend', () => {
    expect(sut).toMatch(/aria-label="x-axis tick label"[^]*>Mon 01:00</);
    expect(sut).not.toMatch(/>\d+\.\d+</);
    expect(sut).toMatch(/class="plot-swatch"[^]*alpha[^]*beta/);
    expect(sut).toContain('data-chart="test"');
  });

  it('carries no inline style, which the CSP would block', () => {
    expect(sut).not.toMatch(/<style|style=/);
  });
});

describe('lineChart', () => {
  it('draws a titled dot per sample and a legend, with no inline style', () => {
    const sut = lineChart(
      { name: 'line', label: 'Active', counts: 'active sessions', one: 'active session' },
      [
        { at: hourAt(1), value: 1 },
        { at: hourAt(3), value: 4 },
      ],
      '#333333',
      axis,
    );
    expect(drawn(sut, 'wide').match(/<circle[^>]*><title>/g)).toHaveLength(2);
    expect(sut).toContain('<title>Mon 01:00: 1 active session</title>');
    expect(sut).toContain('<title>Mon 03:00: 4 active sessions</title>');
    expect(sut).toContain('<path');
    expect(sut).not.toMatch(/<style|style=/);
  });
});

describe('sessionLengthChart', () => {
  const minutes = (n: number) => n * 60_000;
  const sut = sessionLengthChart(
    { name: 'length', label: 'Lengths' },
    { p5Ms: minutes(2), p25Ms: minutes(5), medianMs: minutes(12), p75Ms: minutes(20), p95Ms: minutes(45) },
  );

  it('draws a box plot: titled whiskers, box and median tick, in each size', () => {
    for (const size of ['wide', 'narrow'] as const) {
      expect(drawn(sut, size).match(/<rect[^>]*><title>/g)).toHaveLength(1);
      expect(drawn(sut, size).match(/<line[^>]*><title>/g)).toHaveLength(3);
    }
    expect(sut).toContain('<title>1 in 20 ended within 2 min</title>');
    expect(sut).toContain('<title>the middle half lasted 5 min to 20 min</title>');
    expect(sut).toContain('<title>half ended within 12 min</title>');
    expect(sut).toContain('<title>19 in 20 ended within 45 min</title>');
  });

  it('has ticks in minutes when the lengths run to minutes, in hours when they run to hours, and a legend', () => {
    expect(sut).toMatch(/aria-label="x-axis tick label"[^]*>10 min</);
    const long = sessionLengthChart(
      { name: 'length', label: 'Lengths' },
      { p5Ms: minutes(30), p25Ms: minutes(60), medianMs: minutes(90), p75Ms: minutes(150), p95Ms: minutes(300) },
    );
    expect(long).toMatch(/aria-label="x-axis tick label"[^]*>2 h</);
    expect(sut).toMatch(/class="plot-swatch"[^]*quartiles[^]*median/);
  });

  it('carries no inline style', () => {
    expect(sut).not.toMatch(/<style|style=/);
  });
});

describe('under Node itself, as production loads it', () => {
  // Jest compiles Plot and linkedom to CommonJS (test/jest.esm-packages.js); production requires
  // them natively, on the first analytics page an instance serves. A dependency Node cannot
  // require would otherwise first show as that page's 500.
  it('loads the charts module and draws a chart', () => {
    const script = `
      const { lineChart } = require('./src/admin/analytics-plots');
      const { AdminTimeFormat } = require('./src/admin/admin-time');
      const at = new Date(Date.UTC(2026, 10, 30)).toISOString();
      const axis = { from: new Date(at), to: new Date(Date.parse(at) + 3600000), bucket: 'hour', time: new AdminTimeFormat('UTC') };
      process.stdout.write(lineChart({ name: 'n', label: 'l', counts: 'c' }, [{ at, value: 1 }], '#000000', axis));`;
    const markup = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
      cwd: join(__dirname, '..', '..'),
      encoding: 'utf8',
    });
    expect(markup).toMatch(/<svg[^>]*data-chart="n"/);
    expect(markup).toContain('<title>Mon 00:00: 1 c</title>');
  });
});
