/// <reference lib="dom" />
import type { NestExpressApplication } from '@nestjs/platform-express';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { freePort } from '../../src/database/ports';
import { amrOf, launchBrowser, signInWithForm, watchedPage, WatchedPage } from '../helpers/browser';
import { sleep } from '../helpers/agents';
import { createTestApp, destroyTestApp, uniqueDatabaseName } from '../helpers/test-app';
import { createUser, TestUser } from '../helpers/users';

const OUTPUT_DIR = join(__dirname, '..', '..', 'test-output');
const REAUTH_MS = 5_000;

/** What Chromium's virtual authenticator is: a platform authenticator holding discoverable credentials, with or without a PIN/biometric. */
interface AuthenticatorKind {
  hasUserVerification: boolean;
  isUserVerified: boolean;
}

/** A page whose browser has a virtual authenticator (DevTools Protocol WebAuthn domain) instead of a real one. */
async function pageWithAuthenticator(
  browser: Browser,
  kind: AuthenticatorKind,
): Promise<WatchedPage & { credentialIds(): Promise<string[]> }> {
  const watched = await watchedPage(browser);
  const cdp = await watched.context.newCDPSession(watched.page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, automaticPresenceSimulation: true, ...kind },
  });
  const credentialIds = async () =>
    (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials.map((credential) => credential.credentialId);
  return { ...watched, credentialIds };
}

describe('passkeys in a real browser (Chromium’s virtual authenticator)', () => {
  let browser: Browser;
  let app: NestExpressApplication;
  let baseUrl: string;
  beforeAll(async () => {
    mkdirSync(OUTPUT_DIR, { recursive: true });
    browser = await launchBrowser();
    // WebAuthn needs a host name (no IP address) in a secure context: localhost is one, and PUBLIC_URL must name it.
    const port = await freePort();
    baseUrl = `http://localhost:${port}`;
    app = await createTestApp({
      db: uniqueDatabaseName('browser_passkeys'),
      env: { PUBLIC_URL: baseUrl, REAUTH_MINUTES: String(REAUTH_MS / 60_000) },
    });
    await app.listen(port, '127.0.0.1');
  });
  afterAll(async () => {
    await browser?.close();
    await destroyTestApp(app);
  });

  /** Adds a passkey on /account/security (the session must be recently authenticated); the page ends there. */
  async function addPasskey(page: Page, name: string, { first }: { first: boolean }): Promise<void> {
    await page.goto(`${baseUrl}/account/security`);
    await page.fill('form[data-passkey="register"] input[name="name"]', name);
    if (first) {
      await page.click('button:has-text("Add a passkey")');
      await page.waitForSelector('#passkey-recovery-codes:not([hidden])');
      await page.screenshot({ path: join(OUTPUT_DIR, 'account-security-passkey-recovery-codes.png'), fullPage: true });
      expect(await page.locator('#passkey-recovery-codes .codes li').count()).toBe(10);
      await Promise.all([page.waitForURL(`${baseUrl}/account/security?done=passkey`), page.click('text=I have saved them')]);
    } else {
      await Promise.all([page.waitForURL(`${baseUrl}/account/security?done=passkey`), page.click('button:has-text("Add a passkey")')]);
    }
    expect(await page.textContent('.notice')).toContain('Your passkey is added');
  }

  async function signOut(page: Page): Promise<void> {
    await Promise.all([page.waitForURL(`${baseUrl}/login?loggedOut=1`), page.click('text=Log out')]);
  }

  it('registers a passkey, signs out, signs in with the passkey alone, steps up with it, and uses it as the second step after the password', async () => {
    const user: TestUser = await createUser(app, { name: 'Passkey User' });
    const { page, context, cspViolations } = await pageWithAuthenticator(browser, { hasUserVerification: true, isUserVerified: true });
    await signInWithForm(page, baseUrl, user.email, user.password);
    await addPasskey(page, 'This laptop', { first: true });
    expect(await page.textContent('tr[data-factor-id] td[data-label="Factor"]')).toContain('This laptop');
    await page.screenshot({ path: join(OUTPUT_DIR, 'account-security-passkey.png'), fullPage: true });

    await signOut(page);
    expect(await page.isVisible('text=Sign in with a passkey')).toBe(true);
    await page.screenshot({ path: join(OUTPUT_DIR, 'login-passkey.png'), fullPage: true });
    await Promise.all([page.waitForURL(`${baseUrl}/dashboard`), page.click('button:has-text("Sign in with a passkey")')]);
    expect(await page.textContent('h1')).toContain('Signed in as Passkey User');
    expect(await amrOf(page)).toEqual(['passkey']);

    // Step-up: once the proof is old, a factor change sends the page to /reauth, where the passkey proves it again.
    await page.goto(`${baseUrl}/account/security`);
    await sleep(REAUTH_MS + 300);
    await Promise.all([page.waitForURL(/\/reauth\?next=/), page.click('text=Make new recovery codes')]);
    expect(await page.isVisible('form[data-passkey="reauth"] button')).toBe(true);
    await page.screenshot({ path: join(OUTPUT_DIR, 'reauth-passkey.png'), fullPage: true });
    await Promise.all([page.waitForURL(`${baseUrl}/account/security`), page.click('form[data-passkey="reauth"] button')]);
    await page.click('text=Make new recovery codes');
    await page.waitForSelector('.notice');
    expect(await page.textContent('.notice')).toContain('New recovery codes replace the old ones');
    expect(await page.locator('ul.codes li').count()).toBe(10);

    await signOut(page);
    await page.fill('input[name="email"]', user.email);
    await page.fill('input[name="password"]', user.password);
    await Promise.all([page.waitForURL(`${baseUrl}/login/second-factor`), page.click('form[action="/login"] button[type="submit"]')]);
    await page.screenshot({ path: join(OUTPUT_DIR, 'login-second-factor-passkey.png'), fullPage: true });
    await Promise.all([page.waitForURL(`${baseUrl}/dashboard`), page.click('button:has-text("Use a passkey")')]);
    expect(await amrOf(page)).toEqual(['pwd', 'passkey']);
    expect(await cspViolations()).toEqual([]);
    await context.close();
  });

  it('gives no session to a passkey that does not verify the person, which still serves as the second step', async () => {
    const user = await createUser(app);
    const { page, context, cspViolations, credentialIds } = await pageWithAuthenticator(browser, {
      hasUserVerification: false,
      isUserVerified: false,
    });
    await signInWithForm(page, baseUrl, user.email, user.password);
    await addPasskey(page, 'Security key', { first: true });
    await signOut(page);

    // Chromium itself asks for user verification before it offers a discoverable passkey: the button reports it.
    await page.click('button:has-text("Sign in with a passkey")');
    await page.waitForSelector('[data-passkey-status]:not([hidden])');
    expect(page.url()).toBe(`${baseUrl}/login?loggedOut=1`);
    expect(await amrOf(page)).toBe('AUTH_1004');

    // The same passkey made to answer the sign-in challenge anyway (by naming the credential) still gets no session.
    const [credentialId] = await credentialIds();
    const refused = await page.evaluate(async (id) => {
      const bytes = (base64: string) => Uint8Array.from(atob(base64.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
      const csrf = (document.querySelector('input[name="_csrf"]') as HTMLInputElement).value;
      const post = (url: string, body: unknown) =>
        fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf }, body: JSON.stringify(body) });
      const options = await (await post('/api/auth/passkey/options', {})).json();
      const credentials = await navigator.credentials.get({
        publicKey: {
          challenge: bytes(options.challenge),
          rpId: options.rpId,
          allowCredentials: [{ type: 'public-key', id: bytes(id) }],
          userVerification: 'discouraged',
        },
        mediation: 'optional',
      });
      const response = (credentials as PublicKeyCredential & { toJSON(): unknown }).toJSON();
      const answer = await post('/api/auth/passkey', { response });
      return { status: answer.status, body: await answer.json() };
    }, credentialId);
    expect(refused).toEqual({
      status: 401,
      body: { error: expect.objectContaining({ code: 'AUTH_1013', details: { reason: 'user_not_verified' } }) },
    });
    expect(await amrOf(page)).toBe('AUTH_1004');

    await page.fill('input[name="email"]', user.email);
    await page.fill('input[name="password"]', user.password);
    await Promise.all([page.waitForURL(`${baseUrl}/login/second-factor`), page.click('form[action="/login"] button[type="submit"]')]);
    await Promise.all([page.waitForURL(`${baseUrl}/dashboard`), page.click('button:has-text("Use a passkey")')]);
    expect(await amrOf(page)).toEqual(['pwd', 'passkey']);
    expect(await cspViolations()).toEqual([]);
    await context.close();
  });
});
