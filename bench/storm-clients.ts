/**
 * The browsers of `npm run bench:storm`, in their own process (forked by
 * storm.bench.ts, which lowers its priority): on one machine the clients
 * would otherwise take the CPU of the server they measure, which real
 * clients, elsewhere, do not. Driven by messages: `prepare` (each browser
 * signs in once and keeps its device cookie), `sample` (sign-ins one after
 * another), `storm` (every browser in a loop for a while).
 */
export const PASSWORD = 'the storm users share this passphrase';

export interface SignInResult {
  status: number;
  code?: string;
  retryAfter?: number;
  ms: number;
}

export type ToClients =
  { type: 'prepare'; url: string; emails: string[] } | { type: 'sample'; count: number } | { type: 'storm'; seconds: number };

export type FromClients =
  { type: 'prepared' } | { type: 'sampled' } | { type: 'stormed'; results: SignInResult[] } | { type: 'failed'; message: string };

/** A browser: its cookies, and sign-in through the JSON API. */
class Browser {
  private readonly cookies = new Map<string, string>();

  constructor(
    private readonly url: string,
    private readonly email: string,
  ) {}

  /** One sign-in (a fresh CSRF token, then the POST); the status, the error code and how long it took. */
  async signIn(): Promise<SignInResult> {
    const started = performance.now();
    const csrf = await this.fetch('/api/auth/csrf');
    const { token } = (await csrf.json()) as { token: string };
    const login = await this.fetch('/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': token },
      body: JSON.stringify({ email: this.email, password: PASSWORD }),
    });
    const body = (await login.json()) as { error?: { code: string } };
    // The session is dropped, as a browser coming back after it expired: the device cookie stays.
    for (const name of [...this.cookies.keys()]) if (name.includes('session')) this.cookies.delete(name);
    return {
      status: login.status,
      code: body.error?.code,
      retryAfter: Number(login.headers.get('retry-after') ?? 0),
      ms: performance.now() - started,
    };
  }

  private async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(`${this.url}${path}`, { ...init, headers: { ...(init.headers ?? {}), cookie } });
    for (const header of response.headers.getSetCookie()) {
      const [pair] = header.split(';');
      const at = pair.indexOf('=');
      const value = pair.slice(at + 1);
      if (value === '') this.cookies.delete(pair.slice(0, at));
      else this.cookies.set(pair.slice(0, at), value);
    }
    return response;
  }
}

let browsers: Browser[] = [];

async function handle(message: ToClients): Promise<FromClients> {
  switch (message.type) {
    case 'prepare': {
      browsers = message.emails.map((email) => new Browser(message.url, email));
      for (const browser of browsers) {
        const first = await browser.signIn();
        if (first.status !== 200) throw new Error(`first sign-in answered ${first.status} ${first.code ?? ''}`);
      }
      return { type: 'prepared' };
    }
    case 'sample':
      for (let i = 0; i < message.count; i++) await browsers[i % browsers.length].signIn();
      return { type: 'sampled' };
    case 'storm': {
      const until = performance.now() + message.seconds * 1000;
      const results: SignInResult[] = [];
      await Promise.all(
        browsers.map(async (browser) => {
          while (performance.now() < until) {
            const result = await browser.signIn();
            results.push(result);
            if (result.status === 503) await new Promise((resolve) => setTimeout(resolve, (result.retryAfter || 1) * 1000));
          }
        }),
      );
      return { type: 'stormed', results };
    }
  }
}

process.on('message', (message: ToClients) => {
  handle(message).then(
    (answer) => process.send!(answer),
    (error: Error) => process.send!({ type: 'failed', message: error.message } satisfies FromClients),
  );
});
