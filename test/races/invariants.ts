import * as argon2 from 'argon2';
import { ObjectId } from 'mongodb';
import { SessionExpiryPass } from '../../src/sessions/session-expiry-pass.service';
import { sleep } from '../helpers/agents';
import { connectionOf } from '../helpers/test-app';
import {
  ABSOLUTE_MS,
  DEVICE_MAX_FAILURES,
  INACTIVITY_MS,
  MAX_FAILURES,
  MAX_FAILURES_PER_IP,
  MAX_PER_USER,
  short,
  Violation,
  World,
} from './world';

/** Every kind of violation the finder reports; RACES_IGNORE (comma list) silences some to look past a known one. */
export const VIOLATION_KINDS = {
  'server-error': 'an answer ≥ 500',
  'served-after-end': 'an ended session was served (at once by the instance that ended it, or by either instance after 1 s)',
  'live-disabled': 'a live session belongs to a disabled (or deleted) user',
  'stale-stamp': "a live session's stamp differs from its user's credentialStamp (or either is missing)",
  'stale-role': "a live session carries another role than its user's (a role change that did not reach it)",
  'past-deadline': 'a session past its deadline when the final expiry pass ran is not ended',
  'over-limit': 'a user has more live sessions than SESSION_MAX_PER_USER',
  'ending-events': 'an ended session without exactly one ending event, or a live one with one',
  'account-budget': 'more AUTH_1001 on an account counter than LOGIN_MAX_FAILURES × (1 + successes on it)',
  'device-budget': 'more AUTH_1001 on a device counter than 3 × (1 + successes on it)',
  'ip-budget': 'more AUTH_1001 from an IP (browsers without a device cookie) than LOGIN_MAX_FAILURES_PER_IP + successes from it',
  'winner-signed-out':
    'a password change that did not succeed ended the session that a change answered 204 with, though it was sent before that 204 came (so it proved an older stamp than that session is under)',
  'current-stamp-ended':
    'the session a password change answered 204 with, under the credential stamp its user still has, was ended for a credential change (which ends only what is under a replaced stamp): a change whose write came earlier ended what a later one issued',
  'password-answer':
    'an account whose password is not the one its password changes were answered with (a 4xx that saved, a 204 that did not)',
} as const;

/** Why a credential change (or the expiry pass finishing one) ends a session. */
const CREDENTIAL_REASONS = new Set([
  'stale_credentials',
  'password_changed',
  'factors_changed',
  'role_changed',
  'user.disabled',
  'mfa.reset',
]);
/** Ending events name the session they ended; `session.revoked_all` is a summary and names none. */
const ENDING_EVENTS = new Set(['logout', 'session.expired', 'session.revoked', 'session.anomaly', 'session.rotated']);
/** Long enough that every instance's one-second read cache has let go of what it read. */
const READ_CACHE_WAIT_MS = 1_100;

interface UserDocument {
  _id: unknown;
  email: string;
  passwordHash: string;
  disabled?: boolean;
  role?: string;
  credentialStamp?: unknown;
}

interface SessionDocument {
  _id: string;
  session: {
    userId?: string;
    role?: string;
    stamp?: unknown;
    createdAt?: Date;
    lastActivityAt?: Date;
    endedReason?: string;
  };
}

interface EventDocument {
  type: string;
  correlationId?: string;
  sessionId?: string;
  reason?: string;
  userId?: string;
}

/** The first deadline: min(last activity + inactivity, sign-in + absolute lifetime). NaN when a timestamp is missing. */
function firstDeadline(document: SessionDocument): number {
  const { createdAt, lastActivityAt } = document.session;
  if (!createdAt || !lastActivityAt) return Number.NaN;
  return Math.min(new Date(lastActivityAt).getTime() + INACTIVITY_MS, new Date(createdAt).getTime() + ABSOLUTE_MS);
}

/**
 * After the program. First the database as the last wave left it (nothing is
 * in flight: every command has had its answer), while sessions that were just
 * used are surely still live. Then, once both instances' read caches have let
 * go of what they read and a final expiry pass has run, the database again,
 * the password-check budgets, and every ended session's cookie against both
 * instances.
 */
export async function checkInvariants(world: World): Promise<Violation[]> {
  const violations = new Map<string, Violation>();
  const add = (found: Violation[]) => found.forEach((violation) => violations.set(`${violation.kind} ${violation.detail}`, violation));
  add(world.violations);
  add((await databaseViolations(world)).violations);

  await sleep(READ_CACHE_WAIT_MS);
  const passStartedAt = Date.now();
  await world.apps[0].get(SessionExpiryPass).run();
  const final = await databaseViolations(world, passStartedAt);
  add(final.violations);
  add(budgetViolations(world));
  add(await passwordViolations(world));
  add(await winnerViolations(world));
  add(await currentStampViolations(world));
  for (const answer of world.answers) {
    if (answer.status >= 500) add([{ kind: 'server-error', detail: `${answer.step} → ${answer.status} ${answer.code ?? ''}`.trim() }]);
  }

  // More than 1 s after the last request: neither instance serves an ended session.
  const before = world.violations.length;
  await world.probeAllEnded(final.notLive);
  add(world.violations.slice(before));
  return [...violations.values()];
}

/**
 * A password change answered 204 saved its password, and one answered 4xx
 * saved nothing: each account's hash is of the model's password (or of a
 * change answered 5xx, which may or may not have saved).
 */
async function passwordViolations(world: World): Promise<Violation[]> {
  const db = connectionOf(world.apps[0]).db!;
  const violations: Violation[] = [];
  for (const user of world.users) {
    const stored = await db.collection<UserDocument>('users').findOne({ _id: new ObjectId(user.id) as never });
    const candidates = [user.password, ...user.maybeSaved];
    const matches = await Promise.all(candidates.map((password) => argon2.verify(stored?.passwordHash ?? '', password).catch(() => false)));
    if (!matches.includes(true)) {
      violations.push({ kind: 'password-answer', detail: `${user.email}: the stored password is none that an answer allows` });
    }
  }
  return violations;
}

/**
 * A change that lost (or failed) never signs out the one that won: the
 * session a 204 handed out is under the winner's new stamp, and a change
 * sent before that 204 came proved an older one. (A change sent after it,
 * from the winner's browser with the new password, may end that session.)
 */
async function winnerViolations(world: World): Promise<Violation[]> {
  const winners = world.passwordChanges.filter((change) => change.handedOut !== undefined);
  if (winners.length === 0) return [];
  const events = await connectionOf(world.apps[0])
    .db!.collection<EventDocument>('session_events')
    .find({ sessionId: { $in: winners.map((change) => change.handedOut!) } })
    .toArray();
  const violations: Violation[] = [];
  for (const winner of winners) {
    for (const event of events.filter((candidate) => candidate.sessionId === winner.handedOut && ENDING_EVENTS.has(candidate.type))) {
      const loser = world.passwordChanges.find(
        (change) =>
          change.wave === winner.wave &&
          change.sentAt < winner.answeredAt &&
          change.status !== 204 &&
          change.correlationId === event.correlationId,
      );
      if (!loser) continue;
      violations.push({
        kind: 'winner-signed-out',
        detail: `${winner.step} → 204 handed out session ${short(winner.handedOut!)}; ${loser.step} → ${loser.status} ended it (${event.type}${event.reason ? `/${event.reason}` : ''})`,
      });
    }
  }
  return violations;
}

/**
 * A credential change ends the sessions under the stamps it replaced, never
 * one under the stamp that replaced it: the session a password change handed
 * out, while the account still has that change's stamp, is never ended for a
 * credential change (an admin's change written before the password's, whose
 * clean-up came after it, had done so).
 */
async function currentStampViolations(world: World): Promise<Violation[]> {
  const db = connectionOf(world.apps[0]).db!;
  const violations: Violation[] = [];
  for (const change of world.passwordChanges) {
    if (!change.handedOut || !change.handedOutStamp || !change.userId) continue;
    const user = await db.collection<UserDocument>('users').findOne({ _id: new ObjectId(change.userId) as never });
    if (user?.credentialStamp !== change.handedOutStamp) continue;
    const ended = await db
      .collection<EventDocument>('session_events')
      .findOne({ sessionId: change.handedOut, type: 'session.revoked', reason: { $in: [...CREDENTIAL_REASONS] } });
    if (ended) {
      violations.push({
        kind: 'current-stamp-ended',
        detail: `${change.step} → 204 handed out session ${short(change.handedOut)} under ${user.email}'s stamp; ended (${ended.reason}, correlation ${ended.correlationId ?? 'none'})`,
      });
    }
  }
  return violations;
}

/**
 * The invariants the database must satisfy whenever nothing is in flight.
 * `passStartedAt`: when the final expiry pass started (sessions past their
 * deadline before it must be ended).
 */
async function databaseViolations(world: World, passStartedAt?: number): Promise<{ violations: Violation[]; notLive: Set<string> }> {
  const db = connectionOf(world.apps[0]).db!;
  const now = Date.now();
  const [users, sessions, events] = await Promise.all([
    db.collection<UserDocument>('users').find({}).toArray(),
    db.collection<SessionDocument>('sessions').find({}).toArray(),
    db.collection<EventDocument>('session_events').find({}).toArray(),
  ]);
  const violations: Violation[] = [];
  const usersById = new Map(users.map((user) => [String(user._id), user]));
  const sessionsById = new Map(sessions.map((document) => [document._id, document]));
  const origin = (id: string) => world.seen.get(id)?.origin ?? 'never given to a browser of the model';

  // Live sessions: no disabled user, no stale stamp, none past a deadline, none over the limit.
  const liveIds = new Set<string>();
  const livePerUser = new Map<string, string[]>();
  for (const document of sessions) {
    const deadline = firstDeadline(document);
    const { userId, role, stamp, endedReason } = document.session;
    if (endedReason !== undefined) continue;
    if (passStartedAt !== undefined && !(deadline > passStartedAt)) {
      violations.push({
        kind: 'past-deadline',
        detail: `session ${short(document._id)} (${origin(document._id)}) was past its deadline (${Number.isNaN(deadline) ? 'no timestamps' : new Date(deadline).toISOString()}) when the final expiry pass started (${new Date(passStartedAt).toISOString()}) and is not ended`,
      });
    }
    if (!(deadline > now)) continue;
    liveIds.add(document._id);
    const user = userId === undefined ? undefined : usersById.get(userId);
    if (!user || user.disabled) {
      violations.push({
        kind: 'live-disabled',
        detail: `live session ${short(document._id)} (${origin(document._id)}) belongs to ${user ? `disabled user ${user.email}` : `no user (${userId})`}`,
      });
    }
    if (user && (typeof user.credentialStamp !== 'string' || stamp !== user.credentialStamp)) {
      violations.push({
        kind: 'stale-stamp',
        detail: `live session ${short(document._id)} (${origin(document._id)}) has stamp ${JSON.stringify(stamp)}, its user ${user.email} has credentialStamp ${JSON.stringify(user.credentialStamp)}`,
      });
    }
    if (user && role !== undefined && role !== user.role) {
      violations.push({
        kind: 'stale-role',
        detail: `live session ${short(document._id)} (${origin(document._id)}) carries role ${role}, its user ${user.email} is ${user.role}`,
      });
    }
    if (userId !== undefined) livePerUser.set(userId, [...(livePerUser.get(userId) ?? []), document._id]);
  }
  for (const [userId, ids] of livePerUser) {
    if (ids.length > MAX_PER_USER) {
      violations.push({
        kind: 'over-limit',
        detail: `user ${usersById.get(userId)?.email ?? userId} has ${ids.length} live sessions (limit ${MAX_PER_USER}): ${ids.map((id) => `${short(id)} (${origin(id)})`).join(', ')}`,
      });
    }
  }

  // Each ended session has exactly one ending event; a session not ended has none.
  const endings = new Map<string, EventDocument[]>();
  for (const event of events) {
    if (event.sessionId && ENDING_EVENTS.has(event.type)) endings.set(event.sessionId, [...(endings.get(event.sessionId) ?? []), event]);
  }
  const allIds = new Set<string>([
    ...sessionsById.keys(),
    ...events.flatMap((event) => (event.sessionId ? [event.sessionId] : [])),
    ...world.seen.keys(),
  ]);
  const notLive = new Set<string>();
  for (const id of allIds) {
    const document = sessionsById.get(id);
    const ended = !document || document.session.endedReason !== undefined;
    if (!liveIds.has(id)) notLive.add(id);
    const recorded = endings.get(id) ?? [];
    const list = recorded.map((event) => `${event.type}${event.reason ? `/${event.reason}` : ''}`).join(', ') || 'none';
    const mentions = events
      .filter((event) => event.sessionId === id && !ENDING_EVENTS.has(event.type))
      .map((event) => event.type)
      .join(', ');
    const state = !document ? 'document gone' : ended ? `marked ended (${document.session.endedReason})` : 'not ended';
    const uses = world.seen.get(id)?.uses.filter((use) => !use.startsWith('final probe')) ?? [];
    const story = [mentions && `other events: ${mentions}`, uses.length > 0 && `then sent with: ${uses.join(' | ')}`].filter(Boolean);
    const about = `session ${short(id)} (${[origin(id), ...story].join('; ')}), ${state}`;
    if (ended && recorded.length !== 1) {
      violations.push({ kind: 'ending-events', detail: `${about}, has ${recorded.length} ending events: ${list}` });
    } else if (ended && document && recorded[0].type !== 'session.expired') {
      violations.push({ kind: 'ending-events', detail: `${about}: endedReason is the expiry pass's, but its ending event is ${list}` });
    } else if (!ended && recorded.length > 0) {
      violations.push({ kind: 'ending-events', detail: `${about}, yet has ending events: ${list}` });
    }
  }

  return { violations, notLive };
}

/** No counter admits more password checks than its budget (successes give points back). */
function budgetViolations(world: World): Violation[] {
  const violations: Violation[] = [];
  const tally = (checks: World['checks'], key: (check: World['checks'][number]) => string) => {
    const counts = new Map<string, { failures: number; successes: number; steps: string[] }>();
    for (const check of checks) {
      const entry = counts.get(key(check)) ?? { failures: 0, successes: 0, steps: [] };
      entry[check.outcome === 'failure' ? 'failures' : 'successes']++;
      entry.steps.push(`${check.step}: ${check.outcome}`);
      counts.set(key(check), entry);
    }
    return counts;
  };
  for (const [counter, { failures, successes, steps }] of tally(world.checks, (check) => check.counter)) {
    const device = counter.startsWith('device ');
    const budget = (device ? DEVICE_MAX_FAILURES : MAX_FAILURES) * (1 + successes);
    if (failures > budget) {
      violations.push({
        kind: device ? 'device-budget' : 'account-budget',
        detail: `${counter}: ${failures} AUTH_1001 answers, budget ${budget} (${successes} successes): ${steps.join('; ')}`,
      });
    }
  }
  // A known browser is counted on its device's counter alone (src/auth/login-throttle.service.ts), never its IP's.
  const strangers = world.checks.filter((check) => !check.counter.startsWith('device '));
  for (const [ip, { failures, successes, steps }] of tally(strangers, (check) => check.ip)) {
    if (failures > MAX_FAILURES_PER_IP + successes) {
      violations.push({
        kind: 'ip-budget',
        detail: `ip ${ip}: ${failures} AUTH_1001 answers, budget ${MAX_FAILURES_PER_IP + successes}: ${steps.join('; ')}`,
      });
    }
  }
  return violations;
}
