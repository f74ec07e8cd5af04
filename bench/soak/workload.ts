/**
 * The mixed workload: one actor per person (its browsers take turns, so one
 * person's requests never overlap and the record of what each session went
 * through stays readable) and one admin console, all at once over both
 * instances. Sessions a browser saw end are replayed at once on the instance
 * that ended them and a second later on the other, as a thief would; at the
 * end every session any browser held is replayed on both instances.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Browser, Exchange, Recorder, SendOptions } from './browser';
import type { Random } from './random';
import {
  ACTIONS,
  ADMIN_THINK_MS,
  BROWSER_WEIGHTS,
  BROWSERS_PER_USER,
  DEFAULT_RETRY_AFTER_SECONDS,
  FINAL_REPLAYS_AT_ONCE,
  OFFICE_IPS,
  PROBE_OTHER_INSTANCE_AFTER_MS,
  THINK_MS,
  USER_AGENTS,
  WRONG_PASSWORD_BURST,
  WRONG_PASSWORD_SHARE,
} from './settings';

export interface Account {
  email: string;
  id: string;
  /** The password the model believes current: the last one a 204 from /api/auth/password set. */
  password: string;
  /** A change that answered neither 204 nor a wrong password: it may be in force. */
  maybePassword?: string;
}

/** A session cookie a browser held, with what a replay of it must send (the same device). */
interface HeldSession {
  cookie: string;
  browser: Browser;
}

export function newPassword(): string {
  return `pass-${randomBytes(9).toString('hex')}`;
}

export class Workload {
  /** Every session any browser held, by public id. */
  readonly held = new Map<string, HeldSession>();
  private readonly replays: Promise<unknown>[] = [];
  private readonly lockedUntil = new Map<string, number>();

  constructor(
    private readonly recorder: Recorder,
    private readonly accounts: Account[],
    private readonly admin: Account,
    private readonly random: Random,
  ) {}

  /** Runs every actor until `until` (a time), then waits for the replays they scheduled. */
  async run(until: number): Promise<void> {
    await Promise.all([
      ...this.accounts.map((account, index) => this.person(account, index, this.random.fork(index), until)),
      this.adminConsole(this.random.fork(this.accounts.length), until),
    ]);
    await Promise.all(this.replays);
  }

  /** Every session any browser held, sent again on both instances (the judge knows which must be refused). */
  async replayAll(): Promise<void> {
    const queue = [...this.held.values()].flatMap((held) => this.recorder.instances.map((instance) => ({ held, instance })));
    await Promise.all(
      Array.from({ length: FINAL_REPLAYS_AT_ONCE }, async () => {
        for (let next = queue.shift(); next; next = queue.shift()) await this.replay(next.held, next.instance.index);
      }),
    );
  }

  private async person(account: Account, index: number, random: Random, until: number): Promise<void> {
    const office = `10.18.0.${1 + (index % OFFICE_IPS)}`;
    const browsers = Array.from(
      { length: BROWSERS_PER_USER[index % BROWSERS_PER_USER.length] },
      (_, b) => new Browser(`u${index}b${b}`, account.email, b === 0 ? office : `10.18.${index + 1}.${b}`, random.pick(USER_AGENTS)),
    );
    const weights = BROWSER_WEIGHTS.slice(0, browsers.length);
    // By fours, so each pace has people with 1 to 4 browsers (4 is beyond the limit).
    const pace = THINK_MS[Math.floor(index / BROWSERS_PER_USER.length) % THINK_MS.length];
    while (Date.now() < until) {
      const browser = browsers[random.index(weights)];
      if (browser.sessionId()) await this.act(account, browser, random);
      else await this.signInFresh(account, browser, random);
      await sleep(random.between(pace.min, pace.max));
    }
  }

  private async signInFresh(account: Account, browser: Browser, random: Random): Promise<void> {
    if ((this.lockedUntil.get(browser.name) ?? 0) > Date.now()) return;
    if (random.chance(WRONG_PASSWORD_SHARE)) {
      const attempts = random.integer(WRONG_PASSWORD_BURST.min, WRONG_PASSWORD_BURST.max);
      for (let i = 0; i < attempts; i++) {
        const exchange = await this.signIn(account, browser, `wrong-${randomBytes(6).toString('hex')}`);
        if (exchange?.status !== 401) break;
      }
      return;
    }
    if ((await this.signInAsOwner(account, browser))?.status === 200) await this.devices(browser);
  }

  private async act(account: Account, browser: Browser, random: Random): Promise<void> {
    switch (random.weighted(ACTIONS)) {
      case 'me':
        await this.send(browser, 'GET', '/api/auth/me');
        return;
      case 'devices':
        await this.devices(browser);
        return;
      case 'status':
        await this.send(browser, 'GET', '/api/auth/session');
        return;
      case 'refresh':
        await this.withCsrf(browser, (csrf) => this.send(browser, 'POST', '/api/auth/session/refresh', { csrf }));
        return;
      case 'signOut':
        await this.withCsrf(browser, (csrf) => this.send(browser, 'POST', '/api/auth/logout', { csrf }));
        return;
      case 'changePassword':
        await this.changePassword(account, browser);
        return;
      case 'signInAgain':
        if ((await this.signInAsOwner(account, browser))?.status === 200) await this.devices(browser);
        return;
    }
  }

  private devices(browser: Browser): Promise<Exchange> {
    return this.send(browser, 'GET', '/api/sessions');
  }

  /** A CSRF token, then the call, while the browser still holds the session it held (the token is bound to it). */
  private async withCsrf(browser: Browser, call: (csrf: string) => Promise<Exchange>): Promise<Exchange | undefined> {
    const session = browser.sessionId();
    const csrf = await this.csrf(browser);
    if (!csrf || browser.sessionId() !== session) return undefined;
    return call(csrf);
  }

  /** Signs in with the password the model believes current, or the one a change that never answered may have set. */
  private async signInAsOwner(account: Account, browser: Browser): Promise<Exchange | undefined> {
    const first = await this.signIn(account, browser, account.password);
    if (first?.status === 200) delete account.maybePassword;
    if (first?.code !== 'AUTH_1001' || !account.maybePassword) return first;
    const second = await this.signIn(account, browser, account.maybePassword);
    if (second?.status === 200) {
      account.password = account.maybePassword;
      delete account.maybePassword;
    }
    return second;
  }

  private async signIn(account: Account, browser: Browser, password: string): Promise<Exchange | undefined> {
    const csrf = await this.csrf(browser);
    if (!csrf) return undefined;
    const exchange = await this.send(browser, 'POST', '/api/auth/login', { csrf, body: { email: account.email, password } });
    if (exchange.status === 429 || exchange.code === 'SYS_9003') {
      const seconds = exchange.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
      if (exchange.status === 429) this.lockedUntil.set(browser.name, Date.now() + seconds * 1000);
      else await sleep(seconds * 1000);
    }
    return exchange;
  }

  private async changePassword(account: Account, browser: Browser): Promise<void> {
    const replacement = newPassword();
    const exchange = await this.withCsrf(browser, (csrf) =>
      this.send(browser, 'POST', '/api/auth/password', { csrf, body: { currentPassword: account.password, newPassword: replacement } }),
    );
    if (exchange?.status === 204) {
      account.password = replacement;
      delete account.maybePassword;
    } else if (exchange && exchange.code !== 'AUTH_1001' && exchange.code !== 'AUTH_1006') {
      // No answer, a 5xx, or a refusal: whether the new password is in force is unknown (the next sign-in tries both).
      account.maybePassword = replacement;
    }
  }

  private async adminConsole(random: Random, until: number): Promise<void> {
    const adminBrowser = new Browser('admin', this.admin.email, '10.18.255.1', USER_AGENTS[0]);
    while (Date.now() < until) {
      if (!adminBrowser.sessionId()) await this.signInAsOwner(this.admin, adminBrowser);
      else await this.revokeSomeone(adminBrowser, random);
      await sleep(random.between(ADMIN_THINK_MS.min, ADMIN_THINK_MS.max));
    }
  }

  /** Lists one person's sessions and ends one of them, re-authenticating when asked to (AUTH_1009). */
  private async revokeSomeone(adminBrowser: Browser, random: Random): Promise<void> {
    const account = random.pick(this.accounts);
    const list = await this.send(adminBrowser, 'GET', `/api/admin/sessions?userId=${account.id}`, { listedUser: account.email });
    if (!list.listed?.length) return;
    const target = random.pick(list.listed);
    const revoke = () =>
      this.withCsrf(adminBrowser, (csrf) => this.send(adminBrowser, 'DELETE', `/api/admin/sessions/${target}`, { csrf, target }));
    if ((await revoke())?.code !== 'AUTH_1009') return;
    const reauth = await this.withCsrf(adminBrowser, (csrf) =>
      this.send(adminBrowser, 'POST', '/api/auth/reauth', { csrf, body: { password: this.admin.password } }),
    );
    if (reauth?.status === 204) await revoke();
  }

  private async csrf(browser: Browser): Promise<string | undefined> {
    const session = this.heldBy(browser);
    const { token, exchange } = await this.recorder.csrf(browser);
    this.afterwards(browser, session, exchange.instance);
    return token;
  }

  /**
   * A browser's request. A session cookie it set is remembered; a session the
   * browser held before and not after (signed out, rotated, signed in again,
   * refused) is replayed at once on that instance and a little later on the other.
   */
  private async send(browser: Browser, method: string, path: string, options: SendOptions = {}): Promise<Exchange> {
    const session = this.heldBy(browser);
    const exchange = await this.recorder.send(browser, method, path, options);
    this.afterwards(browser, session, exchange.instance);
    return exchange;
  }

  private afterwards(browser: Browser, before: HeldSession | undefined, instance: number): void {
    const cookie = browser.sessionCookie();
    const id = browser.sessionId();
    if (cookie && id && !this.held.has(id)) this.held.set(id, { cookie, browser });
    if (before && before.cookie !== cookie) this.replaySoon(before, instance);
  }

  private heldBy(browser: Browser): HeldSession | undefined {
    const id = browser.sessionId();
    return id === undefined ? undefined : this.held.get(id);
  }

  /** A session the browser no longer holds, sent again at once to `instance`, and a little later to the other. */
  private replaySoon(held: HeldSession, instance: number): void {
    const other = (instance + 1) % this.recorder.instances.length;
    this.replays.push(
      this.replay(held, instance),
      sleep(PROBE_OTHER_INSTANCE_AFTER_MS).then(() => this.replay(held, other)),
    );
  }

  private replay(held: HeldSession, instance: number): Promise<Exchange> {
    const probe = new Browser('probe', held.browser.user, held.browser.ip, held.browser.userAgent);
    return this.recorder.send(probe, 'GET', '/api/auth/me', { cookie: held.cookie, instance: this.recorder.instances[instance] });
  }
}
