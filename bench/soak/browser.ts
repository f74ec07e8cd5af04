/**
 * Browsers over fetch: a cookie jar each, and every request recorded as an
 * exchange with what the judge needs (the session it carried, the session an
 * answer set or cleared, the deadlines and lists the server reported).
 */
import { sessionStorageId } from '../../src/sessions/session-id';
import type { SessionView } from '../../src/sessions/sessions.service';
import { SESSION_COOKIE } from '../support';
import type { AppInstance } from './cluster';
import type { Random } from './random';
import { REQUEST_TIMEOUT_MS } from './settings';

export interface Exchange {
  seq: number;
  /** The browser that sent it (`probe` for a replayed cookie). */
  browser: string;
  /** The account whose browser sent it. */
  user: string;
  instance: number;
  incarnation: number;
  method: string;
  /** The path with ids replaced by `:id`: the key of the latency table. */
  route: string;
  start: number;
  end: number;
  /** Undefined when no answer came (connection refused or reset, time-out). */
  status?: number;
  code?: string;
  /** `details.reason` of an error, e.g. `inactivity`. */
  reason?: string;
  error?: string;
  correlationId?: string;
  retryAfterSeconds?: number;
  /** The public id of the session cookie sent. */
  sent?: string;
  /** The public id of a session cookie the answer set. */
  set?: string;
  /** The answer cleared the session cookie. */
  cleared: boolean;
  /** The session's times as the answer reported them (`/me`, refresh, status). */
  view?: SessionView;
  /** The session ids a list answered with (the device list, the admin's list of a user's sessions). */
  listed?: string[];
  /** The list held every item (one page): a session missing from it is not live. */
  listComplete?: boolean;
  /** The account an admin list was of. */
  listedUser?: string;
  /** The session an admin revocation named. */
  target?: string;
}

/** The public id of a session cookie's value (`s:<token>.<signature>`, URL-encoded). */
export function sessionIdOfCookie(value: string): string {
  return sessionStorageId(decodeURIComponent(value).slice(2).split('.')[0]);
}

function routeOf(path: string): string {
  return path.split('?')[0].replace(/\/[0-9a-f]{24,64}(?=\/|$)/g, '/:id');
}

export interface SendOptions {
  body?: object;
  csrf?: string;
  /** A replay: exactly this Cookie header (`session_token=…`), and the browser's jar is left alone. */
  cookie?: string;
  /** Where to send it; else where the load balancer sends it. */
  instance?: AppInstance;
  target?: string;
  listedUser?: string;
}

/** Sends requests to the instances as a load balancer with health checks would, and keeps every exchange. */
export class Recorder {
  readonly exchanges: Exchange[] = [];

  constructor(
    readonly instances: AppInstance[],
    private readonly random: Random,
  ) {}

  /** An instance the load balancer believes up, at random; the first one when none is. */
  pick(): AppInstance {
    const up = this.instances.filter((instance) => instance.up);
    return up.length === 0 ? this.instances[0] : this.random.pick(up);
  }

  async send(browser: Browser, method: string, path: string, options: SendOptions = {}): Promise<Exchange> {
    return (await this.sendForBody(browser, method, path, options)).exchange;
  }

  /** A CSRF token for the browser's next state-changing call (none without an answer). */
  async csrf(browser: Browser): Promise<{ token?: string; exchange: Exchange }> {
    const { exchange, body } = await this.sendForBody(browser, 'GET', '/api/auth/csrf');
    return { token: (body as { token?: string } | undefined)?.token, exchange };
  }

  /** The exchange, and the answer's body (parsed JSON) for the caller that needs more than the judge does. */
  async sendForBody(
    browser: Browser,
    method: string,
    path: string,
    options: SendOptions = {},
  ): Promise<{ exchange: Exchange; body?: unknown }> {
    const instance = options.instance ?? this.pick();
    const cookie = options.cookie ?? browser.cookieHeader();
    const sentValue = options.cookie ? options.cookie.slice(SESSION_COOKIE.length + 1) : browser.jar.get(SESSION_COOKIE);
    const exchange: Exchange = {
      seq: this.exchanges.length,
      browser: browser.name,
      user: browser.user,
      instance: instance.index,
      incarnation: instance.incarnation,
      method,
      route: `${method} ${routeOf(path)}`,
      start: Date.now(),
      end: 0,
      sent: sentValue ? sessionIdOfCookie(sentValue) : undefined,
      cleared: false,
      target: options.target,
      listedUser: options.listedUser,
    };
    this.exchanges.push(exchange);
    const headers: Record<string, string> = { 'user-agent': browser.userAgent, 'x-forwarded-for': browser.ip };
    if (cookie) headers.cookie = cookie;
    if (options.csrf) headers['x-csrf-token'] = options.csrf;
    if (options.body) headers['content-type'] = 'application/json';
    let response: Response;
    let body: unknown;
    try {
      response = await fetch(`${instance.url}${path}`, {
        method,
        headers,
        body: options.body ? JSON.stringify(options.body) : undefined,
        redirect: 'manual',
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const text = await response.text();
      body = text && (response.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : undefined;
    } catch (error) {
      exchange.end = Date.now();
      exchange.error = (error as Error).cause ? String((error as Error & { cause: Error }).cause.message) : (error as Error).message;
      return { exchange };
    }
    exchange.end = Date.now();
    exchange.status = response.status;
    exchange.correlationId = response.headers.get('x-correlation-id') ?? undefined;
    const error = (body as { error?: { code?: string; details?: { reason?: string } } } | undefined)?.error;
    exchange.code = error?.code;
    exchange.reason = error?.details?.reason;
    const retryAfter = response.headers.get('retry-after');
    if (retryAfter) exchange.retryAfterSeconds = Number(retryAfter);
    if (response.ok) describeBody(exchange, body);
    if (options.cookie === undefined) browser.absorb(response.headers.getSetCookie(), exchange);
    else exchange.cleared = response.headers.getSetCookie().some((header) => header.startsWith(`${SESSION_COOKIE}=;`));
    return { exchange, body };
  }
}

/** What an answer's body tells about sessions: deadlines, or a list of ids. */
function describeBody(exchange: Exchange, body: unknown): void {
  const value = body as { session?: SessionView; idleExpiresAt?: string; items?: { id: string }[]; total?: number } | undefined;
  if (value?.session?.idleExpiresAt) exchange.view = value.session;
  else if (value?.idleExpiresAt) exchange.view = value as SessionView;
  if (Array.isArray(value?.items)) {
    exchange.listed = value.items.map((item) => item.id);
    exchange.listComplete = value.total === value.items.length;
  }
}

export class Browser {
  readonly jar = new Map<string, string>();

  constructor(
    readonly name: string,
    readonly user: string,
    readonly ip: string,
    readonly userAgent: string,
  ) {}

  cookieHeader(): string {
    return [...this.jar].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  /** The session cookie as a Cookie header of its own (a replay sends nothing else). */
  sessionCookie(): string | undefined {
    const value = this.jar.get(SESSION_COOKIE);
    return value === undefined ? undefined : `${SESSION_COOKIE}=${value}`;
  }

  sessionId(): string | undefined {
    const value = this.jar.get(SESSION_COOKIE);
    return value === undefined ? undefined : sessionIdOfCookie(value);
  }

  /** Set-Cookie as a browser applies it: set, replace, or clear (an empty value or an expiry in the past). */
  absorb(headers: string[], exchange: Exchange): void {
    for (const header of headers) {
      const [pair, ...attributes] = header.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      const cleared = value === '' || attributes.some((attribute) => /^\s*(expires=.*1970|max-age=(0|-))/i.test(attribute));
      if (cleared) {
        this.jar.delete(name);
        if (name === SESSION_COOKIE) exchange.cleared = true;
        continue;
      }
      this.jar.set(name, value);
      if (name === SESSION_COOKIE) exchange.set = sessionIdOfCookie(value);
    }
  }
}
