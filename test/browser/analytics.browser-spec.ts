/// <reference lib="dom" />
import type { NestExpressApplication } from '@nestjs/platform-express';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { AnalyticsReport } from '../../src/admin/analytics.service';
import type { SessionEvent, SessionEventType } from '../../src/session-events/session-event.schema';
import { SESSION_EVENT_RETENTION_MS } from '../../src/session-events/session-event.schema';
import { SessionEventsRepository } from '../../src/session-events/session-events.repository';
import { SessionStatsRepository } from '../../src/session-events/session-stats.repository';
import { bucketsOf } from '../../src/session-events/time-buckets';
import { csrfToken, newAgent, signIn } from '../helpers/agents';
import { launchBrowser, listen, signInWithForm, watchedPage } from '../helpers/browser';
import { createTestApp, destroyTestApp, uniqueDatabaseName } from '../helpers/test-app';
import { createUser } from '../helpers/users';

const OUTPUT_DIR = join(__dirname, '..', '..', 'test-output');
const HOUR_MS = 60 * 60_000;
const PHONE = { width: 390, height: 844 };
const CHARTS = ['sign-ins', 'endings', 'active', 'session-length'];

/** A day of traffic, hour by hour: more sign-ins by day than by night, some failures, sessions ending every way. */
function dayOfEvents(userId: string, now: number): SessionEvent[] {
  const events: SessionEvent[] = [];
  const add = (type: SessionEventType, at: Date, extra: Partial<SessionEvent> = {}) =>
    events.push({
      type,
      userId,
      ip: '198.51.100.7',
      userAgent: 'seeded',
      correlationId: 'seeded',
      at,
      ...bucketsOf(at),
      expiresAt: new Date(at.getTime() + SESSION_EVENT_RETENTION_MS),
      ...extra,
    });
  for (let hoursAgo = 23; hoursAgo >= 1; hoursAgo--) {
    const at = new Date(now - hoursAgo * HOUR_MS);
    for (let i = 0; i < 1 + (hoursAgo % 5); i++) add('login.succeeded', at);
    if (hoursAgo % 3 === 0) add('login.failed', at, { reason: 'invalid_credentials' });
    if (hoursAgo % 7 === 0) add('login.locked', at, { reason: 'account' });
    if (hoursAgo % 2 === 0) add('logout', at);
    if (hoursAgo % 4 === 1) add('session.expired', at, { reason: 'inactivity', durationMs: (20 + hoursAgo) * 60_000 });
    if (hoursAgo % 6 === 2) add('session.expired', at, { reason: 'absolute', durationMs: 160 * 60_000 });
    if (hoursAgo % 8 === 5) add('session.revoked', at, { reason: 'admin', by: 'admin' });
  }
  return events;
}

/** How many bars a stacked chart of `rows` draws: one per non-zero count. */
function segments(rows: Record<string, number | string>[]): number {
  return rows.reduce((total, row) => total + Object.entries(row).filter(([key, value]) => key !== 'at' && Number(value) > 0).length, 0);
}

async function tickLabels(page: Page, chart: string, axis: 'x' | 'y'): Promise<string[]> {
  return page.locator(`svg.plot-wide[data-chart="${chart}"] g[aria-label="${axis}-axis tick label"] text`).allTextContents();
}

async function fitsTheScreen(page: Page): Promise<{ scrollWidth: number; innerWidth: number }> {
  return page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
}

describe('the admin console in a real browser', () => {
  let browser: Browser;
  let app: NestExpressApplication;
  let baseUrl: string;
  let admin: Awaited<ReturnType<typeof createUser>>;
  beforeAll(async () => {
    browser = await launchBrowser();
    app = await createTestApp({ db: uniqueDatabaseName('browser_analytics') });
    baseUrl = await listen(app);
    admin = await createUser(app, { role: 'admin' });
    const someone = await createUser(app);
    const now = Date.now();
    await app.get(SessionEventsRepository).insert(dayOfEvents(someone.id, now));
    const stats = app.get(SessionStatsRepository);
    for (let hoursAgo = 23; hoursAgo >= 1; hoursAgo--) await stats.record(2 + (hoursAgo % 4), new Date(now - hoursAgo * HOUR_MS));
    // Real traffic too: a sign-in kept open and a failed one from this machine.
    await signIn(app, someone);
    const failing = newAgent(app);
    const token = await csrfToken(failing);
    await failing.post('/api/auth/login').set('X-CSRF-Token', token).send({ email: someone.email, password: 'not it' });
    mkdirSync(OUTPUT_DIR, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await destroyTestApp(app);
  });

  it('draws each chart with time ticks, a legend and one titled mark per count, collapsed tables below, under the CSP', async () => {
    const { page, context, cspViolations } = await watchedPage(browser);
    await signInWithForm(page, baseUrl, admin.email, admin.password);
    await page.goto(`${baseUrl}/admin`);
    expect(await page.textContent('[data-stat="users"] + .label')).toBe('users');
    await page.screenshot({ path: join(OUTPUT_DIR, 'admin.png'), fullPage: true });
    await Promise.all([page.waitForURL(`${baseUrl}/admin/analytics`), page.click('text=Analytics')]);

    const response = await page.request.get(`${baseUrl}/api/admin/analytics?range=24h`);
    const report = (await response.json()) as AnalyticsReport;
    // Each chart is drawn wide for this screen and narrow for phones; the stylesheet shows one.
    expect(await page.locator('svg.plot-wide[data-chart]:visible').count()).toBe(CHARTS.length);
    expect(await page.locator('svg.plot-narrow[data-chart]:visible').count()).toBe(0);
    for (const chart of CHARTS) {
      expect(await tickLabels(page, chart, 'x')).not.toHaveLength(0);
      expect(await page.locator(`[data-chart-card="${chart}"] .plot-swatch`).count()).toBeGreaterThanOrEqual(1);
    }
    for (const chart of ['sign-ins', 'endings', 'active']) {
      const ticks = await tickLabels(page, chart, 'x');
      for (const tick of ticks) expect(tick).toMatch(/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d\d:\d\d$/);
      expect(await tickLabels(page, chart, 'y')).not.toHaveLength(0);
    }
    const titled = (chart: string, mark: string) => page.locator(`svg.plot-wide[data-chart="${chart}"] ${mark}:has(> title)`).count();
    expect(await titled('sign-ins', 'rect')).toBe(segments(report.series.signIns as never));
    expect(await titled('endings', 'rect')).toBe(segments(report.series.endings as never));
    expect(await titled('active', 'circle')).toBe(report.series.activeSessions.length);
    // A box plot: two whiskers and a median tick (lines), and a box (a rectangle), on ticks in minutes or hours.
    expect(await titled('session-length', 'rect')).toBe(1);
    expect(await titled('session-length', 'line')).toBe(3);
    for (const tick of await tickLabels(page, 'session-length', 'x')) expect(tick).toMatch(/^(0|[\d.]+ (s|min|h))$/);

    // Tables sit collapsed below their charts, with short times and no ISO stamps.
    expect(await page.locator('details[open]').count()).toBe(0);
    expect(await page.locator('table[data-table="sign-ins"]').isVisible()).toBe(false);
    await page.click('summary:has-text("Sign-ins per hour")');
    expect(await page.locator('table[data-table="sign-ins"] tbody tr').count()).toBe(report.series.signIns.length);
    expect(await page.textContent('table[data-table="sign-ins"] tbody tr td')).toMatch(/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d\d:\d\d$/);
    expect(await page.textContent('main')).not.toMatch(/\d{4}-\d\d-\d\dT/);
    expect(await page.textContent('table[data-table="failed-ips"]')).toContain('127.0.0.1');
    await page.click('summary:has-text("Sign-ins per hour")');
    await page.screenshot({ path: join(OUTPUT_DIR, 'analytics.png'), fullPage: true });

    await page.goto(`${baseUrl}/account/sessions`);
    await page.screenshot({ path: join(OUTPUT_DIR, 'account-sessions.png'), fullPage: true });
    expect(await cspViolations()).toEqual([]);
    await context.close();
  });

  it('says so instead of drawing an empty chart when a range has nothing to show', async () => {
    const fresh = await createTestApp({ db: uniqueDatabaseName('browser_analytics_empty') });
    try {
      const url = await listen(fresh);
      const freshAdmin = await createUser(fresh, { role: 'admin' });
      const { page, context, cspViolations } = await watchedPage(browser);
      await signInWithForm(page, url, freshAdmin.email, freshAdmin.password);
      await page.goto(`${url}/admin/analytics`);
      // The admin's own sign-in is all there is: no session has ended yet.
      expect(await page.textContent('[data-empty-chart="endings"]')).toBe('No sessions ended in the last 24 hours');
      expect(await page.textContent('[data-empty-chart="session-length"]')).toBe('No sessions ended in the last 24 hours');
      expect(await page.locator('[data-chart-card="endings"] svg').count()).toBe(0);
      expect(await page.locator('svg.plot-wide[data-chart="sign-ins"] rect:has(> title)').count()).toBe(1);
      expect(await page.locator('svg.plot-wide[data-chart="active"]').count()).toBe(1);
      expect(await cspViolations()).toEqual([]);
      await context.close();
    } finally {
      await destroyTestApp(fresh);
    }
  });

  it('fits a phone screen: no sideways scrolling, and buttons keep their labels on one line', async () => {
    const { page, context, cspViolations } = await watchedPage(browser);
    await page.setViewportSize(PHONE);
    await signInWithForm(page, baseUrl, admin.email, admin.password);
    const overflow: Record<string, number> = {};
    for (const [path, shot] of [
      ['/admin', 'phone-admin.png'],
      ['/admin/analytics', 'phone-analytics.png'],
      ['/admin/sessions', 'phone-admin-sessions.png'],
      ['/account/sessions', 'phone-account-sessions.png'],
    ]) {
      await page.goto(`${baseUrl}${path}`);
      for (const summary of await page.locator('summary').all()) await summary.click();
      if (path === '/admin/analytics') expect(await page.locator('svg.plot-narrow[data-chart]:visible').count()).toBe(CHARTS.length);
      const { scrollWidth, innerWidth } = await fitsTheScreen(page);
      overflow[path] = Math.max(0, scrollWidth - innerWidth);
      await page.screenshot({ path: join(OUTPUT_DIR, shot), fullPage: true });
    }
    expect(overflow).toEqual({ '/admin': 0, '/admin/analytics': 0, '/admin/sessions': 0, '/account/sessions': 0 });
    const button = page.locator('button:has-text("Sign out here")');
    expect(await button.evaluate((element) => getComputedStyle(element).whiteSpace)).toBe('nowrap');
    const { height, lineHeight } = await button.evaluate((element) => ({
      height: element.getBoundingClientRect().height,
      lineHeight: parseFloat(getComputedStyle(element).lineHeight) || parseFloat(getComputedStyle(element).fontSize) * 1.2,
    }));
    expect(height).toBeLessThan(2 * lineHeight + 16);
    expect(await cspViolations()).toEqual([]);
    await context.close();
  });
});
