/// <reference lib="dom" />
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Browser } from 'playwright-core';
import { sleep } from '../helpers/agents';
import { launchBrowser, listen, signInWithForm, watchedPage } from '../helpers/browser';
import { createTestApp, destroyTestApp, uniqueDatabaseName } from '../helpers/test-app';
import { createUser, TestUser } from '../helpers/users';

const IDLE_MS = 3_000;

describe('in a real browser', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(() => browser?.close());

  describe('signing in and out', () => {
    let app: NestExpressApplication;
    let baseUrl: string;
    let user: TestUser;
    beforeAll(async () => {
      app = await createTestApp({ db: uniqueDatabaseName('browser_flow') });
      baseUrl = await listen(app);
      user = await createUser(app, { name: 'Browser User' });
    });
    afterAll(() => destroyTestApp(app));

    it('signs in with the form, signs out, and Back shows the login page, not the dashboard', async () => {
      const { page, context, cspViolations } = await watchedPage(browser);
      await signInWithForm(page, baseUrl, user.email, user.password);
      expect(await page.textContent('h1')).toContain('Signed in as Browser User');

      await Promise.all([page.waitForURL(`${baseUrl}/login?loggedOut=1`), page.click('text=Log out')]);
      expect(await page.textContent('.notice')).toBe('You have been logged out.');

      await page.goBack();
      await page.waitForLoadState();
      expect(page.url()).toBe(`${baseUrl}/login?next=%2Fdashboard`);
      expect(await page.textContent('h1')).toBe('Sign in');
      expect(await page.content()).not.toContain('Signed in as');
      expect(await cspViolations()).toEqual([]);
      await context.close();
    });

    it('shows a failed sign-in on the form with the email kept', async () => {
      const { page, context } = await watchedPage(browser);
      await page.goto(`${baseUrl}/login`);
      await page.fill('input[name="email"]', user.email);
      await page.fill('input[name="password"]', 'not the password');
      await Promise.all([page.waitForLoadState(), page.click('button[type="submit"]')]);
      expect(await page.textContent('.error')).toContain('Invalid email or password');
      expect(await page.inputValue('input[name="email"]')).toBe(user.email);
      await context.close();
    });

    it('has no CSP violation on any page', async () => {
      const { page, context, cspViolations } = await watchedPage(browser);
      for (const path of ['/login', '/login?expired=inactivity', '/no-such-page']) {
        await page.goto(`${baseUrl}${path}`);
        expect(await cspViolations()).toEqual([]);
      }
      await signInWithForm(page, baseUrl, user.email, user.password);
      expect(await cspViolations()).toEqual([]);
      const styled = await page.evaluate(() => getComputedStyle(document.querySelector('.card')!).borderRadius);
      expect(styled).not.toBe('0px'); // the stylesheet loaded under the CSP
      await context.close();
    });
  });

  describe('an idle window passing (inactivity 3 s)', () => {
    let app: NestExpressApplication;
    let baseUrl: string;
    let user: TestUser;
    beforeAll(async () => {
      app = await createTestApp({ db: uniqueDatabaseName('browser_idle'), env: { SESSION_INACTIVITY_MINUTES: '0.05' } });
      baseUrl = await listen(app);
      user = await createUser(app);
    });
    afterAll(() => destroyTestApp(app));

    it('lands once on the inactivity message, with no request loop', async () => {
      const { page, context, requests, cspViolations } = await watchedPage(browser);
      await signInWithForm(page, baseUrl, user.email, user.password);
      const before = requests.length;

      await page.waitForURL(`${baseUrl}/login?expired=inactivity`, { timeout: IDLE_MS * 2 });
      await page.waitForLoadState('networkidle');
      const notices = await page.locator('text=Your session has expired due to inactivity. Please log in again.').count();
      expect(notices).toBe(1);

      await sleep(2_000);
      const documents = requests.slice(before).filter((request) => request.resourceType() === 'document');
      expect(documents.map((request) => new URL(request.url()).pathname)).toEqual(['/login']);
      // The login page and its files (style sheet, icon, the passkey library and script), and no request beyond them: no loop.
      expect(requests.length - before).toBeLessThanOrEqual(6);
      expect(await cspViolations()).toEqual([]);

      // Reloading the old page after expiry is one redirect to the same message, not a loop.
      await page.goto(`${baseUrl}/dashboard`);
      expect(page.url()).toBe(`${baseUrl}/login?next=%2Fdashboard`);
      await context.close();
    });
  });
});
