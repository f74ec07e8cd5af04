/**
 * The checks, made after the run with everything known: every exchange, every
 * fault's window, and the database as the run left it. During the run the
 * browsers only record; what each session must have answered is decided here,
 * from what the client knew at each moment:
 *
 * - live: since its birth (a sign-in, or a rotation that keeps its sign-in
 *   time), nothing the client saw or did may have ended it, and the request
 *   finished before its lower deadlines (the absolute one the server
 *   reported, or sign-in + lifetime; the idle one from the last activity the
 *   client knows was written, minus the write interval and the read cache);
 * - ended: the client saw it end (its own sign-out, rotation or sign-in over
 *   it, a refusal, an admin's 204, a password change in another browser, a
 *   list it was missing from), or the database recorded its end, or it is past
 *   its upper deadlines (the last request it carried plus the idle window);
 * - unknown otherwise: while an operation that may end it is in flight, or
 *   one whose answer never came (or was a 5xx) is not yet settled by a later
 *   answer that shows it live.
 */
import { DEVICE_MAX_FAILURES } from '../../src/auth/login-throttle.service';
import { EXPIRED_SESSION_RETENTION_MS } from '../../src/sessions/session-expiry-policy';
import type { Exchange } from './browser';
import { AppInstance, faultDuring, FaultWindow, Incarnation, RssSample } from './cluster';
import {
  ABSOLUTE_MS,
  ACTIVITY_WRITE_INTERVAL_MS,
  ACTIVITY_WRITE_SLACK_MS,
  CLOCK_MARGIN_MS,
  END_REACHES_EVERY_INSTANCE_MS,
  INACTIVITY_MS,
  INSTANCE_NAMES,
  LOGIN_MAX_FAILURES,
  LOGIN_MAX_FAILURES_PER_IP,
  RSS_MIN_HALF_MS,
  RSS_TOLERANCE,
  RSS_WINDOW_SHARE,
} from './settings';

export const VIOLATION_KINDS = {
  'server-error': 'an answer ≥ 500 other than 503 SYS_9002 within a fault window, or 503 SYS_9003 (shedding)',
  'no-answer': "a request without an answer (refused, reset, timed out) outside its instance's fault window",
  'unexpected-answer': 'an answer its route should not give, outside fault windows',
  'session-lost': 'a session the client held live and within its deadlines was refused, outside fault windows',
  'served-after-end':
    'a session served (or listed as live) after the client knew it ended or its end was recorded: at once on the instance that ended it, after 1 s on the other',
  'ending-events': 'an ended session without exactly one ending event, a live one with one, or one past its deadline not ended',
  'ending-reason': "a session's ending event is not the one the client's own action caused",
  'ended-but-live': 'a session the client saw end is live in the database',
  'lockout-counter': 'a lockout counter below 0 or above its limit',
  'rss-growth': 'RSS after the second half not within 10% of RSS after the first',
} as const;
export type ViolationKind = keyof typeof VIOLATION_KINDS;

export interface Violation {
  kind: ViolationKind;
  detail: string;
}

/** Event types that end the session they name (src/sessions/session-events.service.ts); `session.revoked_all` is a summary. */
export const ENDING_EVENTS = new Set(['logout', 'session.expired', 'session.revoked', 'session.anomaly', 'session.rotated']);

/** Routes that need a live session: a 2xx with a session cookie means it was served. */
const AUTHENTICATED = new Set([
  'GET /api/auth/me',
  'GET /api/auth/session',
  'POST /api/auth/session/refresh',
  'GET /api/sessions',
  'POST /api/auth/password',
  'POST /api/auth/reauth',
  'GET /api/admin/sessions',
  'DELETE /api/admin/sessions/:id',
]);
/** Served but not activity (the countdown timer's read). */
const NOT_ACTIVITY = new Set(['GET /api/auth/session']);
/** Calls that may end the session they carry. */
const ENDS_OWN = new Set(['POST /api/auth/logout', 'POST /api/auth/login', 'POST /api/auth/password', 'POST /api/auth/reauth']);
const CSRF = 'GET /api/auth/csrf';
const LOGOUT = 'POST /api/auth/logout';
const LOGIN = 'POST /api/auth/login';
const PASSWORD = 'POST /api/auth/password';
const REAUTH = 'POST /api/auth/reauth';
const DEVICE_LIST = 'GET /api/sessions';
const ADMIN_LIST = 'GET /api/admin/sessions';
const ADMIN_REVOKE = 'DELETE /api/admin/sessions/:id';
/** Answers that refuse a session. */
const REFUSAL_CODES = new Set(['AUTH_1002', 'AUTH_1003', 'AUTH_1004', 'AUTH_1010']);
const REFUSED = ['401 AUTH_1002', '401 AUTH_1003'];
/** What each route may answer outside fault windows (besides 503 SYS_9003, shedding, anywhere). */
const EXPECTED: Record<string, string[]> = {
  'GET /api/auth/csrf': ['200'],
  'POST /api/auth/login': ['200', '401 AUTH_1001', '429 AUTH_1006'],
  'GET /api/auth/me': ['200', ...REFUSED],
  'GET /api/auth/session': ['200', ...REFUSED],
  'POST /api/auth/session/refresh': ['200', ...REFUSED],
  'GET /api/sessions': ['200', ...REFUSED],
  'POST /api/auth/logout': ['204'],
  // AUTH_1001: a change whose answer never came left the model unsure of the password.
  'POST /api/auth/password': ['204', '401 AUTH_1001', '429 AUTH_1006', ...REFUSED],
  'POST /api/auth/reauth': ['204', '429 AUTH_1006', ...REFUSED],
  'GET /api/admin/sessions': ['200', ...REFUSED],
  'DELETE /api/admin/sessions/:id': ['204', '404 RES_3001', '403 AUTH_1009', ...REFUSED],
  'POST /api/admin/users': ['201'],
};

export interface StoredSessionDocument {
  _id: string;
  expires: Date;
  session: { userId?: string; endedReason?: string; endedBy?: string };
}

export interface StoredEvent {
  type: string;
  sessionId?: string;
  reason?: string;
  by?: string;
  at: Date;
}

export interface DatabaseSnapshot {
  takenAt: number;
  sessions: StoredSessionDocument[];
  events: StoredEvent[];
  loginFailures: { _id: string; points: number; expire: Date }[];
  users: { email: string; signInDevices?: Record<string, { points: number; expire: Date }> }[];
}

/** What event the client's own action must have recorded. */
interface Expectation {
  type: string;
  reasons?: string[];
}

/** The client learned that the session ended. */
interface End {
  at: number;
  /** The instance that ended it (it must refuse at once); unknown for lists and recorded events. */
  instance?: number;
  cause: string;
  /** The ending event the cause must have recorded, when the session was surely live when it happened. */
  expect?: Expectation;
  /** The exchange it was learned from, for `expect`. */
  from?: Exchange;
}

/** Something that may end the session: ambiguous while in flight, and after it until an answer shows the session live. */
interface Operation {
  exchange: Exchange;
  /** Its outcome is unknown (no answer, a 5xx, or a sign-in that may have ended older sessions under the limit). */
  open: boolean;
  /** When a later answer showed the session live (open operations only). */
  settledAt: number;
}

interface Story {
  id: string;
  user: string;
  birth: Exchange;
  parent?: Story;
  uses: Exchange[];
  /** Answers showing it live: served requests and lists that hold it. */
  seenLive: Exchange[];
  operations: Operation[];
  ends: End[];
  recordedEnds: End[];
  absolute?: number;
}

const ok = (exchange: Exchange) => exchange.status !== undefined && exchange.status >= 200 && exchange.status < 300;
const unknownOutcome = (exchange: Exchange) => exchange.status === undefined || exchange.status >= 500;
const answer = (exchange: Exchange) =>
  exchange.status === undefined
    ? `no answer (${exchange.error})`
    : `${exchange.status}${exchange.code ? ` ${exchange.code}` : ''}${exchange.reason ? `/${exchange.reason}` : ''}`;

export class Judge {
  readonly violations: Violation[] = [];
  /** How many answers had to serve their session, and how many had to refuse it: what the session checks rest on. */
  readonly asserted = { live: 0, ended: 0 };
  private readonly stories = new Map<string, Story>();

  constructor(
    private readonly exchanges: Exchange[],
    private readonly faults: FaultWindow[],
    private readonly startedAt: number,
  ) {}

  /** `+12.3 s` from the start of the run. */
  private t(at: number): string {
    return `+${((at - this.startedAt) / 1000).toFixed(1)} s`;
  }

  private describe(exchange: Exchange): string {
    return `#${exchange.seq} ${exchange.browser} ${exchange.route} @${INSTANCE_NAMES[exchange.instance]} ${this.t(exchange.start)}–${this.t(exchange.end)} → ${answer(exchange)}${exchange.correlationId ? ` (correlation id ${exchange.correlationId})` : ''}`;
  }

  private add(kind: ViolationKind, detail: string): void {
    this.violations.push({ kind, detail });
  }

  private faultDuring(instance: number, from: number, to: number, options?: { instanceFaultsOnly: boolean }): FaultWindow | undefined {
    return faultDuring(this.faults, instance, from, to, options);
  }

  checkAnswers(): void {
    for (const exchange of this.exchanges) {
      const fault = this.faultDuring(exchange.instance, exchange.start, exchange.end);
      if (exchange.status === undefined) {
        if (!this.faultDuring(exchange.instance, exchange.start, exchange.end, { instanceFaultsOnly: true }))
          this.add('no-answer', this.describe(exchange));
        continue;
      }
      if (exchange.code === 'SYS_9003' && exchange.status === 503) continue;
      if (exchange.status >= 500) {
        if (!(fault && exchange.status === 503 && exchange.code === 'SYS_9002')) this.add('server-error', this.describe(exchange));
        continue;
      }
      const expected = EXPECTED[exchange.route];
      const key = `${exchange.status}${exchange.code ? ` ${exchange.code}` : ''}`;
      if (!fault && expected && !expected.includes(key)) this.add('unexpected-answer', this.describe(exchange));
    }
  }

  checkSessions(snapshot: DatabaseSnapshot, stoppedAt: number): void {
    this.buildStories(snapshot);
    for (const story of this.stories.values()) {
      this.setExpectations(story);
      this.checkUses(story);
    }
    this.checkRecords(snapshot, stoppedAt);
  }

  private story(id: string, user: string, birth: Exchange): Story {
    let story = this.stories.get(id);
    if (!story) {
      story = { id, user, birth, uses: [], seenLive: [], operations: [], ends: [], recordedEnds: [] };
      this.stories.set(id, story);
    }
    return story;
  }

  private buildStories(snapshot: DatabaseSnapshot): void {
    for (const exchange of this.exchanges) {
      if (exchange.sent) this.stories.get(exchange.sent)?.uses.push(exchange);
      if (exchange.set && exchange.set !== exchange.sent) {
        const story = this.story(exchange.set, exchange.user, exchange);
        if (exchange.route === PASSWORD || exchange.route === REAUTH)
          story.parent = exchange.sent ? this.stories.get(exchange.sent) : undefined;
        // A cookie set by an answer that is not a success: the session may or may not be stored.
        if (!ok(exchange)) story.operations.push({ exchange, open: true, settledAt: Infinity });
      }
    }
    const byUser = new Map<string, Story[]>();
    for (const story of this.stories.values()) byUser.set(story.user, [...(byUser.get(story.user) ?? []), story]);

    for (const story of this.stories.values()) {
      story.absolute = this.absoluteOf(story);
      for (const use of story.uses) this.learnFromUse(story, use);
    }
    for (const exchange of this.exchanges) {
      if (exchange.browser === 'probe') continue;
      if (exchange.route === ADMIN_REVOKE && exchange.target) this.learnFromRevocation(exchange);
      const lister = exchange.route === DEVICE_LIST ? exchange.user : exchange.route === ADMIN_LIST ? exchange.listedUser : undefined;
      if (lister && ok(exchange) && exchange.listed) this.learnFromList(byUser.get(lister) ?? [], exchange);
      if (exchange.route === PASSWORD || exchange.route === LOGIN) this.learnFromAccountChange(byUser.get(exchange.user) ?? [], exchange);
    }
    for (const event of snapshot.events) {
      const story = event.sessionId ? this.stories.get(event.sessionId) : undefined;
      if (story && ENDING_EVENTS.has(event.type)) {
        story.recordedEnds.push({
          at: new Date(event.at).getTime(),
          cause: `recorded ${event.type}${event.reason ? `/${event.reason}` : ''}`,
        });
      }
    }
    for (const story of this.stories.values()) {
      for (const operation of story.operations.filter((candidate) => candidate.open)) {
        const settledBy = story.seenLive.find((seen) => seen.start > operation.exchange.end);
        operation.settledAt = settledBy?.end ?? Infinity;
      }
      story.ends.sort((a, b) => a.at - b.at);
    }
  }

  /** The absolute deadline the server reported for it or the session it continues. */
  private absoluteOf(story: Story): number | undefined {
    const view = story.uses.find((use) => use.view)?.view;
    if (view) return new Date(view.absoluteExpiresAt).getTime();
    return story.parent ? (story.parent.absolute ?? this.absoluteOf(story.parent)) : undefined;
  }

  /** The birth of the sign-in this session continues (itself, unless it was rotated). */
  private signInOf(story: Story): Exchange {
    return story.parent ? this.signInOf(story.parent) : story.birth;
  }

  private learnFromUse(story: Story, use: Exchange): void {
    if (this.served(use)) story.seenLive.push(use);
    if (ENDS_OWN.has(use.route) && use.browser !== 'probe')
      story.operations.push({ exchange: use, open: unknownOutcome(use), settledAt: Infinity });
    if (use.route === LOGOUT && use.status === 204)
      story.ends.push({ at: use.end, instance: use.instance, cause: 'signed out', from: use });
    else if (use.route === LOGIN && ok(use) && use.set && use.set !== story.id) {
      story.ends.push({ at: use.end, instance: use.instance, cause: 'signed in again over it', from: use });
    } else if ((use.route === PASSWORD || use.route === REAUTH) && use.status === 204) {
      story.ends.push({
        at: use.end,
        instance: use.instance,
        cause: `rotated by ${use.route}`,
        expect: { type: 'session.rotated' },
        from: use,
      });
    } else if (this.refused(use)) {
      story.ends.push({
        at: use.end,
        instance: use.instance,
        cause: `refused (${answer(use)}${use.cleared ? ', cookie cleared' : ''})`,
        expect: use.code === 'AUTH_1002' ? { type: 'session.expired' } : undefined,
        from: use,
      });
    }
  }

  /** The answer refused the session it carried: a 401 saying so, or its cookie cleared (not by a sign-out or sign-in). */
  private refused(use: Exchange): boolean {
    if (use.status === 401 && AUTHENTICATED.has(use.route)) return REFUSAL_CODES.has(use.code ?? '');
    return use.cleared && use.route !== LOGOUT && use.route !== LOGIN;
  }

  /** The answer took the session it carried as live (a wrong password or a missing re-authentication still means that). */
  private served(use: Exchange): boolean {
    return (AUTHENTICATED.has(use.route) || use.route === CSRF) && use.status !== undefined && use.status < 500 && !this.refused(use);
  }

  private learnFromRevocation(exchange: Exchange): void {
    const story = this.stories.get(exchange.target ?? '');
    if (!story) return;
    story.operations.push({ exchange, open: unknownOutcome(exchange), settledAt: Infinity });
    if (exchange.status === 204) {
      story.ends.push({
        at: exchange.end,
        instance: exchange.instance,
        cause: 'revoked by the admin',
        expect: { type: 'session.revoked', reasons: ['admin'] },
        from: exchange,
      });
    } else if (exchange.status === 404) {
      story.ends.push({ at: exchange.end, cause: 'not live when the admin revoked it (404)', from: exchange });
    }
  }

  private learnFromList(stories: Story[], list: Exchange): void {
    const listed = new Set(list.listed);
    for (const story of stories) {
      // A list answered to the session itself is one of its own served requests already.
      if (story.birth.end > list.start || story.id === list.sent) continue;
      if (listed.has(story.id)) story.seenLive.push(list);
      else if (list.listComplete) story.ends.push({ at: list.end, cause: `missing from ${this.describe(list)}`, from: list });
    }
  }

  /** A password change or a sign-in of the same account, from another session: it may end this one. */
  private learnFromAccountChange(stories: Story[], exchange: Exchange): void {
    const passwordChanged = exchange.route === PASSWORD && exchange.status === 204;
    // A sign-in may end older sessions under SESSION_MAX_PER_USER: unknown which until a list or an answer says.
    const mayHaveEnded = unknownOutcome(exchange) || passwordChanged || (exchange.route === LOGIN && ok(exchange));
    if (!mayHaveEnded) return;
    for (const story of stories) {
      if (story.id === exchange.sent || story.id === exchange.set || story.birth.end > exchange.start) continue;
      story.operations.push({ exchange, open: !passwordChanged, settledAt: Infinity });
      if (passwordChanged) {
        story.ends.push({
          at: exchange.end,
          instance: exchange.instance,
          cause: `password changed by ${this.describe(exchange)}`,
          from: exchange,
        });
      }
    }
  }

  /** Causes whose event is certain only if the session was surely live when they acted. */
  private setExpectations(story: Story): void {
    for (const end of story.ends) {
      if (end.expect || !end.from || !this.surelyLive(story, end.from)) continue;
      if (end.cause === 'signed out') end.expect = { type: 'logout' };
      else if (end.cause === 'signed in again over it') end.expect = { type: 'session.revoked', reasons: ['signed_in_again'] };
      else if (end.cause.startsWith('password changed'))
        end.expect = { type: 'session.revoked', reasons: ['password_changed', 'stale_credentials'] };
    }
  }

  /**
   * Why the session need not have been live throughout `exchange`, or
   * undefined when it must have been (the exchange itself is not counted as
   * something that may end it).
   */
  private whyNotSurelyLive(story: Story, exchange: Exchange): string | undefined {
    const fault = this.faultDuring(exchange.instance, exchange.start, exchange.end);
    if (fault) return `within the ${fault.kind} window`;
    if (story.ends.some((end) => end.at < exchange.end && end.from !== exchange)) return 'known ended';
    const ambiguous = story.operations.find(
      ({ exchange: other, open, settledAt }) =>
        other !== exchange && other.start < exchange.end && (other.end > exchange.start || (open && settledAt > exchange.start)),
    );
    if (ambiguous) return `${this.describe(ambiguous.exchange)} may have ended it`;
    const deadline = this.lowerDeadline(story, exchange.start);
    if (exchange.end >= deadline - CLOCK_MARGIN_MS) return `near or past its deadline (${this.t(deadline)})`;
    return undefined;
  }

  private surelyLive(story: Story, exchange: Exchange): boolean {
    return this.whyNotSurelyLive(story, exchange) === undefined;
  }

  /** No later than its real first deadline, from what the client knew before `at`. */
  private lowerDeadline(story: Story, at: number): number {
    const signIn = this.signInOf(story);
    const absolute = story.absolute ?? signIn.start + ABSOLUTE_MS;
    let idle = story.birth.start + INACTIVITY_MS;
    for (const use of story.uses) {
      if (use.end >= at || !ok(use) || !AUTHENTICATED.has(use.route)) continue;
      if (use.view) idle = Math.max(idle, new Date(use.view.idleExpiresAt).getTime());
      const written = !NOT_ACTIVITY.has(use.route) && !this.faultDuring(use.instance, use.start, use.end + ACTIVITY_WRITE_SLACK_MS);
      if (written) idle = Math.max(idle, use.start + INACTIVITY_MS - ACTIVITY_WRITE_INTERVAL_MS - END_REACHES_EVERY_INSTANCE_MS);
    }
    return Math.min(absolute, idle);
  }

  /** No earlier than its real first deadline, from every request that carried it before `at`; Infinity when one may still be at work. */
  private upperDeadline(story: Story, at: number): number {
    const signIn = this.signInOf(story);
    const absolute = story.absolute ?? signIn.end + ABSOLUTE_MS;
    let last = story.birth.end;
    for (const use of story.uses) {
      if (use.start >= at) continue;
      if (use.status === undefined && /timeout|abort/i.test(use.error ?? '')) return Infinity;
      last = Math.max(last, use.end);
    }
    return Math.min(absolute, last + INACTIVITY_MS);
  }

  /**
   * Every answer about the session, against what the client knew when it was
   * sent: one that had to refuse it (it was known ended, or past its upper
   * deadline) and served it; one that had to serve it (surely live) and refused it.
   */
  private checkUses(story: Story): void {
    const ends = [...story.ends, ...story.recordedEnds];
    for (const use of story.uses) {
      const served = this.served(use);
      if (!served && !this.refused(use)) continue;
      const end = ends.find(
        (candidate) => candidate.at + (candidate.instance === use.instance ? 0 : END_REACHES_EVERY_INSTANCE_MS) <= use.start,
      );
      const upper = this.upperDeadline(story, use.start);
      if (end || use.start > upper + CLOCK_MARGIN_MS) {
        this.asserted.ended++;
        if (served) this.servedAfterEnd(story, use, end, upper);
      } else if (this.surelyLive(story, use)) {
        this.asserted.live++;
        if (!served) {
          const lastSeen = story.seenLive.filter((seen) => seen.end < use.start).pop();
          this.add(
            'session-lost',
            `session ${story.id.slice(0, 8)} of ${story.user} (born ${this.describe(story.birth)}), lower deadline ${this.t(this.lowerDeadline(story, use.start))}, last seen live ${lastSeen ? this.describe(lastSeen) : 'never'}: ${this.describe(use)}`,
          );
        }
      }
    }
    // Lists read the database: one that shows the session live after its end was known or recorded is wrong too.
    for (const list of story.seenLive.filter((seen) => seen.sent !== story.id)) {
      const end = ends.find((candidate) => candidate.at + END_REACHES_EVERY_INSTANCE_MS <= list.start);
      if (!end) continue;
      this.asserted.ended++;
      this.servedAfterEnd(story, list, end, Infinity);
    }
  }

  private servedAfterEnd(story: Story, seen: Exchange, end: End | undefined, upper: number): void {
    const cause = end
      ? `${end.cause} at ${this.t(end.at)}${end.instance === undefined ? '' : ` on ${INSTANCE_NAMES[end.instance]}`}`
      : `past its deadline (at the latest ${this.t(upper)})`;
    const how = seen.sent === story.id ? 'served' : 'listed as live';
    this.add(
      'served-after-end',
      `session ${story.id.slice(0, 8)} of ${story.user} ${how} after it ended (${cause}): ${this.describe(seen)}`,
    );
  }

  private checkRecords(snapshot: DatabaseSnapshot, stoppedAt: number): void {
    const documents = new Map(snapshot.sessions.map((document) => [document._id, document]));
    const endings = new Map<string, StoredEvent[]>();
    for (const event of snapshot.events) {
      if (event.sessionId && ENDING_EVENTS.has(event.type)) endings.set(event.sessionId, [...(endings.get(event.sessionId) ?? []), event]);
    }
    const ids = new Set([...documents.keys(), ...endings.keys(), ...this.stories.keys()]);
    for (const id of ids) {
      const document = documents.get(id);
      const story = this.stories.get(id);
      const recorded = endings.get(id) ?? [];
      const list = recorded.map((event) => `${event.type}${event.reason ? `/${event.reason}` : ''}`).join(', ') || 'none';
      const about = `session ${id.slice(0, 8)}${story ? ` of ${story.user} (born ${this.describe(story.birth)})` : ''}`;
      // A cookie from an answer that was not a success, for a session that was never stored.
      if (!document && recorded.length === 0 && story && !ok(story.birth)) continue;
      const ended = !document || document.session.endedReason !== undefined;
      const firstDeadline = document ? new Date(document.expires).getTime() - EXPIRED_SESSION_RETENTION_MS : undefined;
      if (document?.session.endedBy !== undefined) {
        this.add('ending-events', `${about}: marked ended (${document.session.endedReason}) by a pass that never recorded it`);
      } else if (ended && recorded.length !== 1) {
        this.add(
          'ending-events',
          `${about}, ${document ? `marked ended (${document.session.endedReason})` : 'gone'}, has ${recorded.length} ending events: ${list}`,
        );
      } else if (!ended && recorded.length > 0) {
        this.add('ending-events', `${about} is live, yet has ending events: ${list}`);
      } else if (!ended && firstDeadline !== undefined && firstDeadline < stoppedAt - CLOCK_MARGIN_MS) {
        this.add('ending-events', `${about} was past its deadline (${this.t(firstDeadline)}) when the load stopped and is still not ended`);
      }
      if (!story) continue;
      const known = story.ends[0];
      if (known && !ended && firstDeadline !== undefined && firstDeadline > snapshot.takenAt) {
        this.add('ended-but-live', `${about}: the client saw it end (${known.cause} at ${this.t(known.at)}), the database has it live`);
      }
      // The first end the client saw is the cause; its event is certain only when it carries an expectation.
      const expected = known?.expect;
      const [event] = recorded;
      if (
        expected &&
        recorded.length === 1 &&
        (event.type !== expected.type || (expected.reasons && !expected.reasons.includes(event.reason ?? '')))
      ) {
        this.add(
          'ending-reason',
          `${about}: ${known.cause} at ${this.t(known.at)}, so ${expected.type}${expected.reasons ? `/${expected.reasons.join('|')}` : ''} expected; recorded ${list}`,
        );
      }
    }
  }

  checkLockout(snapshot: DatabaseSnapshot): void {
    for (const counter of snapshot.loginFailures) {
      const limit = counter._id.startsWith('ip:') ? LOGIN_MAX_FAILURES_PER_IP : LOGIN_MAX_FAILURES;
      if (!(Number.isInteger(counter.points) && counter.points >= 0 && counter.points <= limit)) {
        this.add('lockout-counter', `login_failures ${counter._id.slice(0, 20)}…: ${counter.points} points (limit ${limit})`);
      }
    }
    for (const user of snapshot.users) {
      for (const [device, counter] of Object.entries(user.signInDevices ?? {})) {
        if (!(Number.isInteger(counter.points) && counter.points >= 0 && counter.points <= DEVICE_MAX_FAILURES)) {
          this.add(
            'lockout-counter',
            `${user.email} device ${device.slice(0, 8)}: ${counter.points} points (limit ${DEVICE_MAX_FAILURES})`,
          );
        }
      }
    }
  }

  /**
   * Each instance's last process: the median RSS over the last fifth of the
   * first half against the last fifth of the second. A process restarted by a
   * fault after that window began is compared over the halves of its own life.
   */
  checkRss(instances: AppInstance[], stoppedAt: number): RssFigure[] {
    const half = this.startedAt + (stoppedAt - this.startedAt) / 2;
    return instances.map((instance) => {
      const life = instance.incarnations[instance.incarnation];
      const window = RSS_WINDOW_SHARE * (half - this.startedAt);
      const born = life.readyAt ?? life.startedAt;
      const middle = born <= half - window ? half : born + (stoppedAt - born) / 2;
      const first = medianRss(life, middle - window, middle);
      const second = medianRss(life, stoppedAt - window, stoppedAt);
      const change = first && second ? second / first - 1 : NaN;
      const since = born <= this.startedAt ? 'the start' : `its restart at ${this.t(born)}`;
      const figure: RssFigure = {
        instance: instance.name,
        firstMb: round(first),
        secondMb: round(second),
        change: round(change * 100),
        comparedAt: [this.t(middle), this.t(stoppedAt)],
        since,
        judged: stoppedAt - middle >= RSS_MIN_HALF_MS,
      };
      if (figure.judged && !(Math.abs(change) <= RSS_TOLERANCE)) {
        this.add(
          'rss-growth',
          `instance ${instance.name} (since ${since}): ${figure.firstMb} MB at ${figure.comparedAt[0]}, ${figure.secondMb} MB at ${figure.comparedAt[1]} (${figure.change}%)`,
        );
      }
      return figure;
    });
  }
}

export interface RssFigure {
  instance: string;
  firstMb: number;
  secondMb: number;
  /** Percent. */
  change: number;
  comparedAt: [string, string];
  since: string;
  /** False when the second half was too short to say anything (RSS_MIN_HALF_MS). */
  judged: boolean;
}

function medianRss(life: Incarnation, from: number, to: number): number {
  const values = life.rss.filter((sample: RssSample) => sample.at >= from && sample.at <= to).map((sample) => sample.mb);
  return percentile(values, 50);
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
