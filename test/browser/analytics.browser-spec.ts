import type { NestExpressApplication } from '@nestjs/platform-express';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { csrfToken, newAgent } from '../helpers/agents';
import { launchBrowser, listen, signInWithForm, watchedPage } from '../helpers/browser';
import { createTestApp, destroyTestApp, uniqueDatabaseName } from '../helpers/test-app';
import { createUser } from '../helpers/users';

const OUTPUT_DIR = join(__dirname, '..', '..', 'test-output');

describe('the analytics page in a real browser', () => {
  let browser: Browser;
  let app: NestExpressApplication;
  let baseUrl: string;
  beforeAll(async () => {
    browser = await launchBrowser();
    app = await createTestApp({ db: uniqueDatabaseName('browser_analytics') });
    baseUrl = await listen(app);
  });
  afterAll(async () => {
    await browser?.close();
    await destroyTestApp(app);
  });

  it('draws its charts with tables beside them, under the CSP, and saves a screenshot', async () => {
    const admin = await createUser(app, { role: 'admin' });
    const someone = await createUser(app);
    const failing = newAgent(app);
    const token = await csrfToken(failing);
    await failing.post('/api/auth/login').set('X-CSRF-Token', token).send({ email: someone.email, password: 'not it' });

    const { page, context, cspViolations } = await watchedPage(browser);
    await signInWithForm(page, baseUrl, admin.email, admin.password);
    await page.goto(`${baseUrl}/admin`);
    await Promise.all([page.waitForURL(`${baseUrl}/admin/analytics`), page.click('text=Analytics')]);

    expect(await page.locator('svg[data-chart]').count()).toBe(3);
    expect(await page.locator('svg[data-chart="sign-ins"] rect.bar').count()).toBeGreaterThanOrEqual(2);
    expect(await page.locator('table[data-table="sign-ins"] tbody tr').count()).toBeGreaterThanOrEqual(24);
    expect(await page.textContent('table[data-table="failed-ips"]')).toContain('127.0.0.1');
    mkdirSync(OUTPUT_DIR, { recursive: true });
    await page.screenshot({ path: join(OUTPUT_DIR, 'analytics.png'), fullPage: true });
    expect(await cspViolations()).toEqual([]);
    await context.close();
  });
});
