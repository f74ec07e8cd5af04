import type { NestExpressApplication } from '@nestjs/platform-express';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { amrOf, launchBrowser, signInWithForm, listen, watchedPage } from '../helpers/browser';
import { awayFromStepEdge, totpCode } from '../helpers/second-factors';
import { createTestApp, destroyTestApp, uniqueDatabaseName } from '../helpers/test-app';
import { createUser } from '../helpers/users';

const OUTPUT_DIR = join(__dirname, '..', '..', 'test-output');
const STEP_MS = 30_000;

describe('an authenticator app, enrolled and used from the pages', () => {
  let browser: Browser;
  let app: NestExpressApplication;
  let baseUrl: string;
  beforeAll(async () => {
    mkdirSync(OUTPUT_DIR, { recursive: true });
    browser = await launchBrowser();
    app = await createTestApp({ db: uniqueDatabaseName('browser_totp') });
    baseUrl = await listen(app);
  });
  afterAll(async () => {
    await browser?.close();
    await destroyTestApp(app);
  });

  it('shows a QR code and the key, confirms with a code, then asks for a code at the next sign-in; a used code is refused', async () => {
    const user = await createUser(app, { name: 'App User' });
    const { page, context, cspViolations } = await watchedPage(browser);
    await signInWithForm(page, baseUrl, user.email, user.password);

    await page.goto(`${baseUrl}/account/security`);
    await page.click('button:has-text("Set up an authenticator app")');
    await page.waitForSelector('figure.qr svg');
    const secret = (await page.textContent('[data-secret]'))!.trim();
    await page.screenshot({ path: join(OUTPUT_DIR, 'account-security-totp-qr.png'), fullPage: true });
    await awayFromStepEdge();
    const confirmedAt = Date.now();
    await page.fill('input[name="code"]', totpCode(secret, confirmedAt));
    await page.click('button:has-text("Confirm")');
    await page.waitForSelector('[data-recovery-codes]');
    expect(await page.locator('[data-recovery-codes] ul.codes li').count()).toBe(10);
    await page.screenshot({ path: join(OUTPUT_DIR, 'account-security-totp-recovery-codes.png'), fullPage: true });

    await Promise.all([page.waitForURL(`${baseUrl}/login?loggedOut=1`), page.click('text=Log out')]);
    await page.fill('input[name="email"]', user.email);
    await page.fill('input[name="password"]', user.password);
    await Promise.all([page.waitForURL(`${baseUrl}/login/second-factor`), page.click('form[action="/login"] button[type="submit"]')]);
    await page.screenshot({ path: join(OUTPUT_DIR, 'login-second-factor-totp.png'), fullPage: true });
    // The code that confirmed the app was spent: still inside the window, it is refused, and the page says so.
    await page.fill('form[data-method="totp"] input[name="code"]', totpCode(secret, confirmedAt));
    await page.click('form[data-method="totp"] button[type="submit"]');
    await page.waitForSelector('p.error[data-code="AUTH_1013"]');
    expect(page.url()).toContain('/login/second-factor');
    await page.screenshot({ path: join(OUTPUT_DIR, 'login-second-factor-refused.png'), fullPage: true });

    // The app's next code is after the spent one and inside the window of one step either side.
    await page.fill('form[data-method="totp"] input[name="code"]', totpCode(secret, confirmedAt + STEP_MS));
    await Promise.all([page.waitForURL(`${baseUrl}/dashboard`), page.click('form[data-method="totp"] button[type="submit"]')]);
    expect(await page.textContent('h1')).toContain('Signed in as App User');
    expect(await amrOf(page)).toEqual(['pwd', 'otp']);
    expect(await cspViolations()).toEqual([]);
    await context.close();
  });
});
