/**
 * The browsers of `npm run bench:storm`, in their own process (forked by
 * storm.bench.ts, which lowers its priority): on one machine the clients
 * would otherwise take the CPU of the server they measure, which real
 * clients, elsewhere, do not. Driven by messages: `prepare` (each browser
 * signs in once and keeps its device cookie), `sample` (sign-ins one after
 * another), `storm` (every browser in a loop for a while).
 */
import { Agent, request } from 'node:http';

export const PASSWORD = 'the storm users share this passphrase';

export interface SignInResult {
  status: number;
  code?: string;
  retryAfter?: number;
  ms: number;
  /** When it was answered, in ms from the storm's start (storm only). */
  at?: number;
}

export type ToClients =
  { type: 'prepare'; url: string; emails: string[] } | { type: 'sample'; count: number } | { type: 'storm'; seconds: number };

export type FromClients =
  { type: 'prepared' } | { type: 'sampled' } | { type: 'stormed'; results: SignInResult[] } | { type: 'failed'; message: string };

/** A browser's answer: what a sign-in reads of it. */
interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * Kept-alive connections and node's plain HTTP client, not fetch: undici's
 * Response, stream and header machinery cost the clients more CPU, which on
 * one machine comes out of the server they measure.
 */
const agent = new Agent({ keepAlive: true });
const RETRY_SPREAD_MS = 1_000;

/** A browser: its cookies, and sign-in through the JSON API. */
class Browser {
  private readonly cookies = new Map<string, string>();

  constructor(
    private readonly url: string,
    private readonly email: string,
  ) {}

  /**
   * One sign-in: a fresh CSRF token (as a sign-in page is loaded), unless this
   * is a retry after 503 with the token of the try before (as a JSON client
   * retries), then the POST; the status, the error code and how long it took.
   */
  async signIn(retryToken?: string): Promise<SignInResult & { token: string }> {
    const started = performance.now();
    const token = retryToken ?? (JSON.parse((await this.send('GET', '/api/auth/csrf')).body) as { token: string }).token;
    const login = await this.send('POST', '/api/auth/login', JSON.stringify({ email: this.email, password: PASSWORD }), token);
    const body = JSON.parse(login.body) as { error?: { code: string } };
    // The session is dropped, as a browser coming back after it expired: the device cookie stays.
    for (const name of [...this.cookies.keys()]) if (name.includes('session')) this.cookies.delete(name);
    return {
      status: login.status,
      code: body.error?.code,
      retryAfter: Number(login.headers['retry-after'] ?? 0),
      ms: performance.now() - started,
      token,
    };
  }

  /**
   * A request the server closed its kept-alive connection under before
   * reading it (its idle timeout met the client's reuse) is sent once more on
   * a new one, as browsers do.
   */
  private async send(method: 'GET' | 'POST', path: string, body?: string, csrfToken?: string): Promise<Answer> {
    try {
      return await this.sendOnce(method, path, body, csrfToken);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ECONNRESET' || !(error as { reusedSocket?: boolean }).reusedSocket) throw error;
      // On a connection of its own: the pool may hold more sockets the server closed at the same moment.
      return this.sendOnce(method, path, body, csrfToken, false);
    }
  }

  private sendOnce(method: 'GET' | 'POST', path: string, body?: string, csrfToken?: string, via: Agent | false = agent): Promise<Answer> {
    const headers: Record<string, string> = { cookie: [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ') };
    if (body !== undefined)
      Object.assign(headers, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
    if (csrfToken) headers['x-csrf-token'] = csrfToken;
    return new Promise((resolve, reject) => {
      const outgoing = request(`${this.url}${path}`, { method, headers, agent: via }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          this.keepCookies(response.headers['set-cookie'] ?? []);
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') });
        });
        response.on('error', reject);
      });
      outgoing.on('error', (error) => reject(Object.assign(error, { reusedSocket: outgoing.reusedSocket })));
      outgoing.end(body);
    });
  }

  private keepCookies(setCookies: string[]): void {
    for (const header of setCookies) {
      const [pair] = header.split(';');
      const at = pair.indexOf('=');
      const value = pair.slice(at + 1);
      if (value === '') this.cookies.delete(pair.slice(0, at));
      else this.cookies.set(pair.slice(0, at), value);
    }
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
      const started = performance.now();
      const until = started + message.seconds * 1000;
      const results: SignInResult[] = [];
      await Promise.all(
        browsers.map(async (browser) => {
          let retryToken: string | undefined;
          while (performance.now() < until) {
            const { token, ...result } = await browser.signIn(retryToken);
            results.push({ ...result, at: performance.now() - started });
            retryToken = result.status === 503 ? token : undefined;
            // Retry-After is the earliest moment; people (and well-behaved clients) come back at their own moment after
            // it, not all in the same millisecond: a second's spread, so the bench does not send the shed in lock-step waves.
            const wait = (result.retryAfter || 1) * 1000 + Math.random() * RETRY_SPREAD_MS;
            if (result.status === 503) await new Promise((resolve) => setTimeout(resolve, wait));
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
