import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Browser } from 'playwright-core';
import { sleep } from '../helpers/agents';
import { launchBrowser, listen, signInWithForm, watchedPage } from '../helpers/browser';
import { createTestApp, destroyTestApp, uniqueDatabaseName } from '../helpers/test-app';
import { createUser, TestUser } from '../helpers/users';

const REAUTH_MS = 1_500;

describe('re-authentication in a real browser', () => {
  let browser: Browser;
  let app: NestExpressApplication;
  let baseUrl: string;
  let admin: TestUser;
  beforeAll(async () => {
    browser = await launchBrowser();
    app = await createTestApp({ db: uniqueDatabaseName('browser_reauth'), env: { REAUTH_MINUTES: String(REAUTH_MS / 60_000) } });
    baseUrl = await listen(app);
    admin = await createUser(app, { role: 'admin' });
  });
  afterAll(async () => {
    await browser?.close();
    await destroyTestApp(app);
  });

  it('asks for the password before a sensitive action, then comes back to finish it', async () => {
    const subject = await createUser(app);
    const { page, context, cspViolations } = await watchedPage(browser);
    await signInWithForm(page, baseUrl, admin.email, admin.password);
    await page.goto(`${baseUrl}/admin/users/${subject.id}`);
    await sleep(REAUTH_MS + 300);

    await Promise.all([page.waitForURL(/\/reauth\?next=/), page.click('text=Disable and sign out everywhere')]);
    expect(await page.textContent('h1')).toBe('Confirm your password');
    await page.fill('input[name="password"]', admin.password);
    await Promise.all([
      page.waitForURL(`${baseUrl}/admin/users/${subject.id}`),
      page.click('form[action="/reauth"] button[type="submit"]'),
    ]);

    await Promise.all([page.waitForLoadState(), page.click('text=Disable and sign out everywhere')]);
    expect(await page.textContent('[data-field="status"]')).toBe('disabled');
    expect(await cspViolations()).toEqual([]);
    await context.close();
  });

  it('ends every other session from /admin/sessions after its confirmation box', async () => {
    const other = await createUser(app);
    const { page: otherPage, context: otherContext } = await watchedPage(browser);
    await signInWithForm(otherPage, baseUrl, other.email, other.password);

    const { page, context, cspViolations } = await watchedPage(browser);
    await signInWithForm(page, baseUrl, admin.email, admin.password);
    await page.goto(`${baseUrl}/admin/sessions`);
    await page.check('input[name="confirm"]');
    await Promise.all([page.waitForURL(/\/admin\/sessions\?ended=\d+/), page.click('text=Sign out all other sessions')]);
    expect(await page.textContent('.notice')).toMatch(/Signed out \d+ other sessions?\. Yours goes on\./);

    await otherPage.goto(`${baseUrl}/dashboard`);
    expect(otherPage.url()).toContain('/login');
    expect(await cspViolations()).toEqual([]);
    await Promise.all([context.close(), otherContext.close()]);
  });
});
