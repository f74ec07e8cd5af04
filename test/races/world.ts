import type { NestExpressApplication } from '@nestjs/platform-express';
import { createHash, randomBytes } from 'node:crypto';
import request from 'supertest';
import type { Response } from 'supertest';
import { SessionExpiryPass } from '../../src/sessions/session-expiry-pass.service';
import { UsersService } from '../../src/users/users.service';
import { sleep, tokenOf } from '../helpers/agents';
import { connectionOf } from '../helpers/test-app';
import { Command, describeCommand, Instance, PEOPLE_BROWSERS, Program } from './program';

/** The configuration both instances run with. */
export const INACTIVITY_MS = 1_500;
export const ABSOLUTE_MS = 6_000;
export const MAX_PER_USER = 2;
export const MAX_FAILURES = 3;
export const MAX_FAILURES_PER_IP = 5;
/** src/auth/login-throttle.service.ts DEVICE_MAX_FAILURES: a browser with the account's device cookie has its own budget. */
export const DEVICE_MAX_FAILURES = 3;
export const RACE_ENV: Record<string, string> = {
  TRUST_PROXY: '1',
  SESSION_INACTIVITY_MINUTES: String(INACTIVITY_MS / 60_000),
  SESSION_EXPIRE_MINUTES: String(ABSOLUTE_MS / 60_000),
  SESSION_MAX_PER_USER: String(MAX_PER_USER),
  LOGIN_MAX_FAILURES: String(MAX_FAILURES),
  LOGIN_MAX_FAILURES_PER_IP: String(MAX_FAILURES_PER_IP),
  // The programs run the expiry pass themselves (a command, and once at the end); no background pass.
  SESSION_SWEEP_SECONDS: '3600',
};

/** Far beyond what one request takes: past it, something hangs. */
const REQUEST_TIMEOUT_MS = 60_000;
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
export const SESSION_COOKIE = 'session_token';
const DEVICE_COOKIE = 'device';
const COLLECTIONS = ['sessions', 'session_events', 'login_failures', 'users'];
const INSTANCE_NAMES = ['A', 'B'];

export interface ModelUser {
  index: number;
  id: string;
  email: string;
  /** The password the model believes current: the last one a 204 from /api/auth/password set. */
  password: string;
  /** New passwords of changes answered 5xx: saved or not, either may be true. */
  maybeSaved: string[];
}

/** A session cookie the model received, and where from. */
export interface SeenSession {
  id: string;
  /** `session_token=<value>`, exactly as a browser sends it back. */
  cookie: string;
  userId?: string;
  /** The request whose answer set it, e.g. `signIn(b1 as admin) @A POST /api/auth/login → 200`. */
  origin: string;
  /** The requests that carried it afterwards, with their answers (probes included). */
  uses: string[];
}

/** One answer, for the 5xx check and the counterexample's story. */
export interface Answer {
  step: string;
  status: number;
  code?: string;
}

/** A password check the server made (an answer that shows the password was checked, or refused as wrong). */
export interface PasswordCheck {
  /** `account <email>` or `device <email> <device id>`: the counter the server charged (src/auth/login-throttle.service.ts). */
  counter: string;
  ip: string;
  outcome: 'failure' | 'success';
  step: string;
}

/** A password change the program made: which wave, what it answered, the session a 204 handed out. */
export interface PasswordChange {
  step: string;
  wave: number;
  correlationId: string;
  status: number;
  /** When its POST was sent, and when its answer came (ms since the epoch). */
  sentAt: number;
  answeredAt: number;
  /** The public id of the session cookie a 204 set (the changer's session under its new id). */
  handedOut?: string;
  /** The credential stamp that session was under when the 204 came (none when it had already ended). */
  handedOutStamp?: string;
  userId?: string;
}

export interface Violation {
  kind: string;
  detail: string;
}

class Browser {
  readonly jar = new Map<string, string>();
  constructor(
    readonly name: string,
    readonly ip: string,
  ) {}

  cookieHeader(): string {
    return [...this.jar].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  sessionCookie(): string | undefined {
    const value = this.jar.get(SESSION_COOKIE);
    return value === undefined ? undefined : `${SESSION_COOKIE}=${value}`;
  }
}

/** The public id of a session cookie: SHA-256 of its raw token (test/helpers/agents.ts tokenOf). */
export function sessionIdOf(cookie: string): string {
  return createHash('sha256').update(tokenOf(cookie)).digest('hex');
}

type Method = 'get' | 'post' | 'patch' | 'delete';

interface CallOptions {
  body?: object;
  csrf?: string;
  /** Send exactly this Cookie header and leave the browser's jar alone (a probe). */
  cookie?: string;
  /** Whose session a session cookie set by this answer is (default: the owner of the session sent). */
  owner?: (response: Response) => string | undefined;
}

/**
 * The world of one program: two instances on one database, the users, the
 * simulated browsers with their cookie jars, and everything the invariants
 * need to know afterwards (every session cookie received, every answer,
 * every password check, violations seen while running).
 */
export class World {
  readonly users: ModelUser[] = [];
  readonly browsers: Browser[] = [];
  readonly adminConsole: Browser;
  readonly seen = new Map<string, SeenSession>();
  readonly answers: Answer[] = [];
  readonly checks: PasswordCheck[] = [];
  readonly violations: Violation[] = [];
  readonly passwordChanges: PasswordChange[] = [];
  /** The wave running (1 for the first; 0 while the program sets up). */
  private wave = 0;
  /** Numbers each request's correlation id, which the app writes into the events it records. */
  private requests = 0;
  /** Device cookie value → the account it was issued for and its device id. */
  private readonly devices = new Map<string, { email: string; device: string }>();
  private readonly userIds = new Map<string, ModelUser>();

  constructor(
    readonly apps: NestExpressApplication[],
    private readonly urls: string[],
    private readonly run: number,
  ) {
    const ip = (i: number) => `10.${run % 250}.${Math.floor(run / 250) % 250}.${i + 1}`;
    // b0 and b2 share an office IP (its counter sees both); the admin console has its own.
    for (let i = 0; i < PEOPLE_BROWSERS; i++) this.browsers.push(new Browser(`b${i}`, ip(i % 2)));
    this.adminConsole = new Browser('admin', ip(9));
  }

  /** An empty database but for the users of this program (the admin is user 0). */
  async setUp(program: Program, run: number): Promise<void> {
    const db = connectionOf(this.apps[0]).db!;
    await Promise.all(COLLECTIONS.map((name) => db.collection(name).deleteMany({})));
    const usersService = this.apps[0].get(UsersService);
    for (let index = 0; index <= program.users; index++) {
      const email = `r${run}-${index === 0 ? 'admin' : `u${index}`}@example.test`;
      const password = newPassword();
      const created = await usersService.create({ email, password, role: index === 0 ? 'admin' : 'user', name: `User ${index}` });
      const user: ModelUser = { index, id: created.id as string, email, password, maybeSaved: [] };
      this.users.push(user);
      this.userIds.set(user.id, user);
    }
    for (const { browser, user } of program.signedIn) {
      await this.signIn(`start: signIn(b${browser})`, 0, this.browsers[browser], this.userAt(user), false);
    }
    // Signed in before the waves, so an admin change starts with the wave, not a sign-in later.
    await this.ensureAdmin('start: admin console', 0);
  }

  async runWave(wave: Command[]): Promise<void> {
    this.wave++;
    await Promise.all(wave.map((command) => this.runCommand(command)));
  }

  private async runCommand(command: Command): Promise<void> {
    if (command.kind === 'inTurn') {
      for (const each of command.commands) await this.runCommand(each);
      return;
    }
    let step = describeCommand(command);
    let browser = this.browsers['browser' in command ? command.browser : 0];
    if (command.kind !== 'signIn' && 'browser' in command) {
      browser = this.signedInBrowser(command.browser);
      if (browser !== this.browsers[command.browser])
        step += ` [${this.browsers[command.browser].name} holds no session: on ${browser.name}]`;
    }
    switch (command.kind) {
      case 'signIn':
        return this.signIn(step, command.on, browser, this.userAt(command.user), command.wrongPassword);
      case 'me':
        await this.call(step, command.on, browser, 'get', '/api/auth/me');
        return;
      case 'refresh':
        return this.withCsrf(step, command.on, browser, 'post', '/api/auth/session/refresh');
      case 'reauth':
        return this.reauth(step, command.on, browser, command.wrongPassword);
      case 'changePassword':
        return this.changePassword(step, command.on, browser, command.wrongPassword);
      case 'setDisabled':
        return this.asAdmin(step, command.on, 'patch', `/api/admin/users/${this.regularUserAt(command.user).id}`, {
          disabled: command.disabled,
        });
      case 'setRole':
        return this.asAdmin(step, command.on, 'patch', `/api/admin/users/${this.regularUserAt(command.user).id}`, { role: command.role });
      case 'revokeOwn':
        return this.revokeOwn(step, command.on, browser, command.target);
      case 'adminRevoke':
        return this.adminRevoke(step, command.on, command.target);
      case 'endOthers':
        return this.withCsrf(step, command.on, browser, 'delete', '/api/sessions');
      case 'emergencySignOut':
        return this.asAdmin(step, command.on, 'delete', '/api/admin/sessions');
      case 'signOut':
        return this.signOut(step, command.on, browser);
      case 'expiryPass':
        await this.apps[command.on].get(SessionExpiryPass).run();
        return;
      case 'sleepPastIdle':
        await sleep(INACTIVITY_MS + 300);
        return;
      case 'pause':
        await sleep(command.ms);
        return;
    }
  }

  /**
   * The browser a command names, or, when it holds no session cookie, the next
   * one that does (commands of signed-in people are what races): most
   * programs would otherwise spend them on AUTH_1004.
   */
  private signedInBrowser(index: number): Browser {
    for (let i = 0; i < this.browsers.length; i++) {
      const browser = this.browsers[(index + i) % this.browsers.length];
      if (browser.sessionCookie()) return browser;
    }
    return this.browsers[index];
  }

  private userAt(index: number): ModelUser {
    return this.users[index % this.users.length];
  }

  private regularUserAt(index: number): ModelUser {
    return this.users[1 + ((index - 1) % (this.users.length - 1))];
  }

  /** The user whose session the browser holds, as far as the model knows. */
  private ownerOf(browser: Browser): ModelUser | undefined {
    const cookie = browser.sessionCookie();
    const userId = cookie && this.seen.get(sessionIdOf(cookie))?.userId;
    return userId ? this.userIds.get(userId) : undefined;
  }

  private async signIn(step: string, on: Instance, browser: Browser, user: ModelUser, wrongPassword: boolean): Promise<void> {
    await this.signInAs(step, on, browser, user, wrongPassword ? `wrong-${randomBytes(6).toString('hex')}` : user.password);
  }

  private async signInAs(step: string, on: Instance, browser: Browser, user: ModelUser, password: string): Promise<Response> {
    const token = await this.csrf(step, on, browser);
    const device = browser.jar.get(DEVICE_COOKIE);
    const response = await this.call(step, on, browser, 'post', '/api/auth/login', {
      csrf: token,
      body: { email: user.email, password },
      owner: (answer) => (answer.status === 200 ? (answer.body.user?.id as string | undefined) : undefined),
    });
    const code = errorCode(response);
    const checked = response.status === 200 || code === 'AUTH_1007' || code === 'AUTH_1003';
    this.countCheck(step, this.counterFor(user, device), browser, response, checked);
    return response;
  }

  private async reauth(step: string, on: Instance, browser: Browser, wrongPassword: boolean): Promise<void> {
    const user = this.ownerOf(browser);
    const device = browser.jar.get(DEVICE_COOKIE);
    const token = await this.csrf(step, on, browser);
    const password = wrongPassword || !user ? `wrong-${randomBytes(6).toString('hex')}` : user.password;
    const response = await this.call(step, on, browser, 'post', '/api/auth/reauth', { csrf: token, body: { password } });
    if (user) this.countCheck(step, this.counterFor(user, device), browser, response, response.status === 204);
  }

  private async changePassword(step: string, on: Instance, browser: Browser, wrongPassword: boolean): Promise<void> {
    const user = this.ownerOf(browser);
    const token = await this.csrf(step, on, browser);
    const replacement = newPassword();
    const currentPassword = wrongPassword || !user ? `wrong-${randomBytes(6).toString('hex')}` : user.password;
    const sentAt = Date.now();
    const response = await this.call(step, on, browser, 'post', '/api/auth/password', {
      csrf: token,
      body: { currentPassword, newPassword: replacement },
    });
    const kept = browser.sessionCookie();
    const handedOut = response.status === 204 && kept ? sessionIdOf(kept) : undefined;
    const stored = handedOut
      ? await connectionOf(this.apps[0])
          .collection('sessions')
          .findOne({ _id: handedOut as never })
      : null;
    this.passwordChanges.push({
      step,
      sentAt,
      answeredAt: Date.now(),
      wave: this.wave,
      correlationId: response.headers['x-correlation-id'] as string,
      status: response.status,
      handedOut,
      handedOutStamp: stored?.session?.stamp as string | undefined,
      userId: user?.id,
    });
    if (response.status === 204 && user) user.password = replacement;
    if (response.status >= 500 && user) user.maybeSaved.push(replacement);
    // A password change is always counted on the account (no device cookie is consulted).
    if (user) this.countCheck(step, `account ${user.email}`, browser, response, response.status === 204 || response.status >= 500);
  }

  private async revokeOwn(step: string, on: Instance, browser: Browser, target: number): Promise<void> {
    const owner = this.ownerOf(browser);
    const candidates = [...this.seen.values()].filter((session) => owner && session.userId === owner.id);
    if (candidates.length === 0) return;
    const session = candidates[target % candidates.length];
    const token = await this.csrf(step, on, browser);
    const response = await this.call(step, on, browser, 'delete', `/api/sessions/${session.id}`, { csrf: token });
    if (response.status === 204) await this.probeEnded(step, on, browser, session);
  }

  private async adminRevoke(step: string, on: Instance, target: number): Promise<void> {
    const candidates = [...this.seen.values()];
    if (candidates.length === 0) return;
    const session = candidates[target % candidates.length];
    if (!(await this.ensureAdmin(step, on))) return;
    const token = await this.csrf(step, on, this.adminConsole);
    const response = await this.call(step, on, this.adminConsole, 'delete', `/api/admin/sessions/${session.id}`, { csrf: token });
    if (response.status === 204) await this.probeEnded(step, on, this.adminConsole, session);
  }

  private async signOut(step: string, on: Instance, browser: Browser): Promise<void> {
    const cookie = browser.sessionCookie();
    const token = await this.csrf(step, on, browser);
    const response = await this.call(step, on, browser, 'post', '/api/auth/logout', { csrf: token });
    const session = cookie && this.seen.get(sessionIdOf(cookie));
    if (response.status === 204 && session) await this.probeEnded(step, on, browser, session);
  }

  /** The admin console signs in when it holds no session cookie; false when it cannot. */
  private async ensureAdmin(step: string, on: Instance): Promise<boolean> {
    if (this.adminConsole.sessionCookie()) return true;
    const response = await this.signInAs(`${step} [admin signs in]`, on, this.adminConsole, this.users[0], this.users[0].password);
    return response.status === 200;
  }

  private async asAdmin(step: string, on: Instance, method: Method, path: string, body?: object): Promise<void> {
    if (!(await this.ensureAdmin(step, on))) return;
    await this.withCsrf(step, on, this.adminConsole, method, path, body);
  }

  private async withCsrf(step: string, on: Instance, browser: Browser, method: Method, path: string, body?: object): Promise<void> {
    const token = await this.csrf(step, on, browser);
    await this.call(step, on, browser, method, path, { csrf: token, body });
  }

  /** A fresh CSRF token before every state-changing call: tokens are bound to the session, which may have a new id. */
  private async csrf(step: string, on: Instance, browser: Browser): Promise<string> {
    const response = await this.call(`${step} [csrf]`, on, browser, 'get', '/api/auth/csrf');
    return response.body.token as string;
  }

  /**
   * The same instance that just answered a sign-out or revocation must refuse
   * that session's cookie at once.
   */
  private async probeEnded(step: string, on: Instance, browser: Browser, session: SeenSession): Promise<void> {
    const response = await this.call(`${step} [probe]`, on, browser, 'get', '/api/auth/me', { cookie: session.cookie });
    if (response.status < 400) {
      this.violations.push({
        kind: 'served-after-end',
        detail: `${step}: instance ${INSTANCE_NAMES[on]} ended session ${short(session.id)} (${session.origin}) and then served it: GET /api/auth/me → ${response.status}`,
      });
    }
  }

  /** After the program: every session the model knows that is not live must be refused by both instances. */
  async probeAllEnded(ids: Set<string>): Promise<void> {
    const probe = new Browser('probe', '10.255.255.254');
    for (const session of this.seen.values()) {
      if (!ids.has(session.id)) continue;
      for (const on of [0, 1] as const) {
        const response = await this.call(`final probe`, on, probe, 'get', '/api/auth/me', { cookie: session.cookie });
        if (response.status < 400) {
          this.violations.push({
            kind: 'served-after-end',
            detail: `session ${short(session.id)} (${session.origin}) is ended, yet 1.1 s later instance ${INSTANCE_NAMES[on]} served it: GET /api/auth/me → ${response.status}`,
          });
        }
      }
    }
  }

  private counterFor(user: ModelUser, deviceCookie: string | undefined): string {
    const device = deviceCookie && this.devices.get(deviceCookie);
    return device && device.email === user.email ? `device ${user.email} ${device.device}` : `account ${user.email}`;
  }

  private countCheck(step: string, counter: string, browser: Browser, response: Response, succeeded: boolean): void {
    if (errorCode(response) === 'AUTH_1001') this.checks.push({ counter, ip: browser.ip, outcome: 'failure', step });
    else if (succeeded) this.checks.push({ counter, ip: browser.ip, outcome: 'success', step });
  }

  private async call(step: string, on: Instance, browser: Browser, method: Method, path: string, options: CallOptions = {}) {
    const server = request(this.urls[on]);
    let pending = server[method](path)
      .timeout(REQUEST_TIMEOUT_MS)
      .set('User-Agent', FIREFOX)
      .set('X-Forwarded-For', browser.ip)
      .set('X-Correlation-ID', `r${this.run}-${++this.requests}`);
    const cookie = options.cookie ?? browser.cookieHeader();
    const sentSession = options.cookie ?? browser.sessionCookie();
    if (cookie) pending = pending.set('Cookie', cookie);
    if (options.csrf) pending = pending.set('X-CSRF-Token', options.csrf);
    const response = options.body ? await pending.send(options.body) : await pending;
    const code = errorCode(response);
    const where = `${step} ${method.toUpperCase()} ${path.replace(/[0-9a-f]{24,}/, (id) => short(id))}`;
    this.answers.push({ step: where, status: response.status, code });
    const used = sentSession && this.seen.get(sessionIdOf(sentSession));
    if (used) used.uses.push(`${where} → ${response.status}${code ? ` ${code}` : ''}`);
    if (options.cookie === undefined) {
      const owner = options.owner ?? (() => (sentSession ? this.seen.get(sessionIdOf(sentSession))?.userId : undefined));
      this.absorb(browser, response, `${where} → ${response.status}${code ? ` ${code}` : ''}`, owner);
    }
    return response;
  }

  /** Set-Cookie, as a browser applies it: set, replace, or clear (an expiry in the past). */
  private absorb(browser: Browser, response: Response, origin: string, owner: (response: Response) => string | undefined): void {
    const headers = (response.headers['set-cookie'] as unknown as string[] | undefined) ?? [];
    for (const header of headers) {
      const [pair, ...attributes] = header.split(';');
      const name = pair.slice(0, pair.indexOf('=')).trim();
      const value = pair.slice(pair.indexOf('=') + 1).trim();
      const cleared = value === '' || attributes.some((attribute) => /^\s*(expires=.*1970|max-age=(0|-))/i.test(attribute));
      if (cleared) {
        browser.jar.delete(name);
        continue;
      }
      browser.jar.set(name, value);
      if (name === SESSION_COOKIE) {
        const cookie = `${name}=${value}`;
        const id = sessionIdOf(cookie);
        if (!this.seen.has(id)) this.seen.set(id, { id, cookie, userId: owner(response), origin, uses: [] });
      }
      if (name === DEVICE_COOKIE && response.status === 200 && response.body?.user?.email) {
        this.devices.set(value, { email: response.body.user.email as string, device: value.split('.')[1] });
      }
    }
  }
}

export function short(id: string): string {
  return id.slice(0, 8);
}

function errorCode(response: Response): string | undefined {
  return (response.body as { error?: { code?: string } } | undefined)?.error?.code;
}

function newPassword(): string {
  return `pw-${randomBytes(9).toString('hex')}`;
}
