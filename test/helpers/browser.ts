/// <reference lib="dom" />
import type { NestExpressApplication } from '@nestjs/platform-express';
import { execFileSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { Browser, BrowserContext, chromium, Page, Request } from 'playwright-core';

/** Flags that keep Chromium off the network: without them it keeps trying hosts it cannot reach here. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

function chromiumPath(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  try {
    return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('Chromium not found: `apt-get install chromium` (or set CHROMIUM_PATH)');
  }
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_ARGS });
}

/** Listens on a loopback port so a real browser can reach the app; returns its base URL. */
export async function listen(app: NestExpressApplication): Promise<string> {
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** Every request the page made, in order. */
  requests: Request[];
  /** CSP violations reported by the page itself or in the console. */
  cspViolations(): Promise<string[]>;
}

/** A fresh browser profile whose page records requests and CSP violations. */
export async function watchedPage(browser: Browser): Promise<WatchedPage> {
  const context = await browser.newContext();
  await context.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __csp: string[] }).__csp = seen;
    document.addEventListener('securitypolicyviolation', (event) => seen.push(`${event.violatedDirective} ${event.blockedURI}`));
  });
  const page = await context.newPage();
  const requests: Request[] = [];
  const consoleViolations: string[] = [];
  page.on('request', (request) => requests.push(request));
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) consoleViolations.push(message.text());
  });
  return {
    page,
    context,
    requests,
    cspViolations: async () => [
      ...consoleViolations,
      ...(await page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? [])),
    ],
  };
}

export async function signInWithForm(page: Page, baseUrl: string, email: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await page.fill('input[name="email"]', email);
  await page.fill('input[name="password"]', password);
  await Promise.all([page.waitForURL(`${baseUrl}/dashboard`), page.click('button[type="submit"]')]);
}

/** /api/auth/me as the page sees it: how its session was proven, or the error code. */
export async function amrOf(page: Page): Promise<string[] | string> {
  return page.evaluate(async () => {
    const response = await fetch('/api/auth/me', { headers: { Accept: 'application/json' } });
    const body = await response.json();
    return response.ok ? body.session.amr.map((entry: { method: string }) => entry.method) : body.error.code;
  });
}
