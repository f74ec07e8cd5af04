/// <reference lib="dom" />
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Browser } from 'playwright-core';
import { sleep } from '../helpers/agents';
import { launchBrowser, listen, signInWithForm, watchedPage } from '../helpers/browser';
import { createTestApp, destroyTestApp, uniqueDatabaseName } from '../helpers/test-app';
import { createUser, TestUser } from '../helpers/users';

// A 6 s inactivity window: the warning shows 3 s before the deadline (half the window when that is under a minute).
const IDLE_MS = 6_000;

describe('idle warning on signed-in pages (inactivity 6 s)', () => {
  let browser: Browser;
  let app: NestExpressApplication;
  let baseUrl: string;
  let user: TestUser;

  beforeAll(async () => {
    browser = await launchBrowser();
    app = await createTestApp({ db: uniqueDatabaseName('browser_warning'), env: { SESSION_INACTIVITY_MINUTES: '0.1' } });
    baseUrl = await listen(app);
    user = await createUser(app);
  });
  afterAll(async () => {
    await browser?.close();
    await destroyTestApp(app);
  });

  it('warns before the deadline, "Stay signed in" keeps the session past it, and idling lands once on the inactivity message', async () => {
    const { page, context, requests, cspViolations } = await watchedPage(browser);
    await signInWithForm(page, baseUrl, user.email, user.password);
    const signedInAt = Date.now();
    expect(await page.isHidden('#idle-warning')).toBe(true);

    await page.waitForSelector('#idle-warning:not([hidden])', { timeout: IDLE_MS });
    expect(await page.textContent('#idle-warning-text')).toMatch(/You will be signed out in \d+ s because of inactivity\./);
    expect(Date.now() - signedInAt).toBeLessThan(IDLE_MS);

    await page.click('#idle-warning-stay');
    await page.waitForSelector('#idle-warning', { state: 'hidden' });
    await sleep(Math.max(0, signedInAt + IDLE_MS + 1_000 - Date.now()));
    expect(page.url()).toBe(`${baseUrl}/dashboard`);
    const status = await page.evaluate(() => fetch('/api/auth/session').then((response) => response.status));
    expect(status).toBe(200);

    await page.waitForURL(`${baseUrl}/login?expired=inactivity`, { timeout: IDLE_MS * 2 });
    expect(await page.locator('text=Your session has expired due to inactivity. Please log in again.').count()).toBe(1);
    const afterExpiry = requests.length;
    await sleep(3_000);
    expect(requests.length).toBe(afterExpiry);

    const paths = requests.map((request) => new URL(request.url()).pathname);
    expect(paths.filter((path) => path === '/api/auth/session').length).toBeLessThanOrEqual(3);
    expect(paths.filter((path) => path === '/api/auth/session/refresh')).toHaveLength(1);
    const loginNavigations = requests.filter((request) => request.resourceType() === 'document' && request.url().includes('expired='));
    expect(loginNavigations).toHaveLength(1);
    expect(await cspViolations()).toEqual([]);
    await context.close();
  });

  it('makes no request faster than every 15 s while nothing happens', async () => {
    const slowApp = await createTestApp({ db: uniqueDatabaseName('browser_poll') });
    const slowUrl = await listen(slowApp);
    const slowUser = await createUser(slowApp);
    const { page, context, requests } = await watchedPage(browser);
    await signInWithForm(page, slowUrl, slowUser.email, slowUser.password);
    await sleep(5_000);
    const polls = requests.filter((request) => new URL(request.url()).pathname === '/api/auth/session');
    expect(polls).toHaveLength(1);
    await context.close();
    await destroyTestApp(slowApp);
  });
});
