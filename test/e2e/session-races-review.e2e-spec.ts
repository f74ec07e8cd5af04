import type { NestExpressApplication } from '@nestjs/platform-express';
import { Collection, MongoNetworkError } from 'mongodb';
import request from 'supertest';
import { LOGIN_MESSAGES } from '../../src/auth/auth-pages.controller';
import { HashedMongoStore } from '../../src/sessions/hashed-mongo-store';
import { SESSION_STORE } from '../../src/sessions/session.constants';
import { SessionEventsService } from '../../src/session-events/session-events.service';
import { SessionExpiryPass } from '../../src/sessions/session-expiry-pass.service';
import { SessionsRepository } from '../../src/sessions/sessions.repository';
import { SessionsService } from '../../src/sessions/sessions.service';
import { UsersService } from '../../src/users/users.service';
import { Agent, newAgent, sentCookie, sessionCookieName, setCookie, signIn, sleep } from '../helpers/agents';
import { formCsrfToken } from '../helpers/forms';
import { eventsOf, holdNextCall, publicIdOf, send } from '../helpers/steps';
import { connectionOf, createTestApp, destroyTestApp, uniqueDatabaseName, useTestApp } from '../helpers/test-app';
import { metricValue } from '../helpers/metrics';
import { createUser } from '../helpers/users';

let nextIp = 1;
const freshIp = () => `203.0.113.${nextIp++}`;
const NEW_PASSWORD = 'a brand new long passphrase';

/** Found by an outside review of the one-owner design; each failed before its fix. */

async function cookieOf(agent: Agent) {
  return sentCookie(await agent.get('/api/auth/me').expect(200), 'session_token');
}
describe('the expiry pass and the owner’s request between its mark and its read-back', () => {
  const ctx = useTestApp({
    db: 'review_a',
    env: { TRUST_PROXY: '1', SESSION_INACTIVITY_MINUTES: String(3_000 / 60_000), SESSION_SWEEP_SECONDS: '3600' },
  });
  afterEach(() => jest.restoreAllMocks());

  it('records the end once when the owner is told AUTH_1002 while the pass is between its mark and its read-back', async () => {
    const user = await createUser(ctx.app);
    const agent = await signIn(ctx.app, user, newAgent(ctx.app).set('X-Forwarded-For', freshIp()));
    const id = publicIdOf(await cookieOf(agent));
    await sleep(3_300);
    // Hold the pass's read-back (find by _id and session.endedBy), i.e. after its updateMany marked the session.
    let reached!: () => void;
    let release!: () => void;
    const arrived = new Promise<void>((resolve) => (reached = resolve));
    const gate = new Promise<void>((resolve) => (release = resolve));
    const originalFind = Collection.prototype.find;
    jest.spyOn(Collection.prototype, 'find').mockImplementation(function (this: Collection, ...args: unknown[]) {
      const filter = args[0] as Record<string, unknown> | undefined;
      if (filter && 'session.endedBy' in filter && '_id' in filter) {
        reached();
        const cursor = (originalFind as (...a: unknown[]) => { toArray(): Promise<unknown[]> }).apply(this, args);
        return { toArray: async () => (await gate, cursor.toArray()) } as never;
      }
      return (originalFind as (...a: unknown[]) => unknown).apply(this, args) as never;
    });
    const pass = ctx.app.get(SessionExpiryPass).run();
    await arrived;
    const told = await agent.get('/api/auth/me');
    expect(told.status).toBe(401);
    expect(told.body.error).toMatchObject({ code: 'AUTH_1002', details: { reason: 'inactivity' } });
    release();
    const endedByPass = await pass;
    const endings = await eventsOf(ctx.app, { sessionId: id, type: { $in: ['session.expired', 'logout', 'session.revoked'] } });
    const doc = await connectionOf(ctx.app)
      .collection('sessions')
      .findOne({ _id: id as never });
    // The marked document stays (the TTL index or the sweep removes it a day later), so the pass finds its mark.
    expect({ endedByPass, endings: endings.length, documentLeft: doc !== null }).toEqual({
      endedByPass: 1,
      endings: 1,
      documentLeft: true,
    });
  });
});

describe('SESSION_MAX_PER_USER with a re-authentication racing a sign-in', () => {
  const ctx = useTestApp({ db: 'review_b', env: { TRUST_PROXY: '1', SESSION_MAX_PER_USER: '2' } });
  afterEach(() => jest.restoreAllMocks());

  it('keeps the limit when a sign-in runs while a rotation’s old id is gone and its new one not yet inserted', async () => {
    const user = await createUser(ctx.app);
    const a = await signIn(ctx.app, user, newAgent(ctx.app).set('X-Forwarded-For', freshIp()));
    await sleep(20);
    await signIn(ctx.app, user, newAgent(ctx.app).set('X-Forwarded-For', freshIp()));
    const held = holdNextCall(ctx.app.get<HashedMongoStore>(SESSION_STORE), 'insert');
    const reauth = send(a, 'post', '/api/auth/reauth', { password: user.password });
    await held.arrived; // A's old session deleted, its new one not yet inserted
    await signIn(ctx.app, user, newAgent(ctx.app).set('X-Forwarded-For', freshIp()));
    held.release();
    expect((await reauth).status).toBe(204);
    const now = new Date(Date.now() + 24 * 60 * 60_000);
    const live = await connectionOf(ctx.app)
      .collection('sessions')
      .countDocuments({ 'session.userId': user.id, 'session.endedReason': { $exists: false }, expires: { $gt: now } });
    expect(live).toBeLessThanOrEqual(2);
  });
});

describe('instances (or a restart) with a longer SESSION_INACTIVITY_MINUTES than a session was written under', () => {
  let short: NestExpressApplication;
  let long: NestExpressApplication;
  beforeAll(async () => {
    const db = uniqueDatabaseName('review_c');
    short = await createTestApp({
      db,
      env: { TRUST_PROXY: '1', SESSION_INACTIVITY_MINUTES: String(3_000 / 60_000), SESSION_SWEEP_SECONDS: '3600' },
    });
    long = await createTestApp({ db, env: { TRUST_PROXY: '1', SESSION_INACTIVITY_MINUTES: '15', SESSION_SWEEP_SECONDS: '3600' } });
  });
  afterEach(() => jest.restoreAllMocks());
  afterAll(async () => {
    await short?.close();
    await destroyTestApp(long);
  });

  it('ends such a session at its stored deadline instead of serving one that no revocation could reach', async () => {
    const admin = await createUser(long, { role: 'admin' });
    const user = await createUser(long);
    const old = await signIn(short, user, newAgent(short).set('X-Forwarded-For', freshIp()));
    const cookie = await cookieOf(old);
    await sleep(3_300);
    const onLong = () => request(long.getHttpServer()).get('/api/auth/me').set('Cookie', cookie).set('X-Forwarded-For', freshIp());
    // Past the deadline it was stored with: over, with the reason, recorded once, on the instance with the longer window too.
    const told = await onLong();
    expect(told.status).toBe(401);
    expect(told.body.error).toMatchObject({ code: 'AUTH_1002', details: { reason: 'inactivity' } });
    expect(await eventsOf(long, { userId: user.id, type: 'session.expired' })).toHaveLength(1);

    // The user's other sessions and credential changes work as usual.
    const other = await signIn(long, user, newAgent(long).set('X-Forwarded-For', freshIp()));
    expect((await send(other, 'post', '/api/auth/password', { currentPassword: user.password, newPassword: NEW_PASSWORD })).status).toBe(
      204,
    );
    const adminAgent = await signIn(long, admin, newAgent(long).set('X-Forwarded-For', freshIp()));
    expect((await send(adminAgent, 'patch', `/api/admin/users/${user.id}`, { disabled: true })).status).toBe(200);
    expect((await onLong()).status).toBe(401);
  });

  it('never lets a sign-out answer 204 while the same cookie goes on working', async () => {
    const user = await createUser(long);
    const old = await signIn(short, user, newAgent(short).set('X-Forwarded-For', freshIp()));
    const cookie = await cookieOf(old);
    await sleep(3_300);
    const agent = request.agent(long.getHttpServer());
    const token = (await agent.get('/api/auth/csrf').set('Cookie', cookie)).body.token as string;
    const out = await agent.post('/api/auth/logout').set('Cookie', cookie).set('X-CSRF-Token', token).send({});
    expect(out.status).toBe(204);
    await sleep(1_100);
    const replay = await request(long.getHttpServer()).get('/api/auth/me').set('Cookie', cookie);
    const logouts = await eventsOf(long, { userId: user.id, type: 'logout' });
    const expired = await eventsOf(long, { userId: user.id, type: 'session.expired' });
    // It had ended at its stored deadline: the sign-out finds nothing left to end, and the cookie stays refused.
    expect({ replay: replay.status, endings: logouts.length + expired.length }).toEqual({ replay: 401, endings: 1 });
  });

  it('ends, and records once, a session read under a shorter window than it was stored with', async () => {
    const user = await createUser(long);
    const agent = await signIn(long, user, newAgent(long).set('X-Forwarded-For', freshIp()));
    const cookie = await cookieOf(agent);
    await sleep(3_300);
    const told = await request(short.getHttpServer()).get('/api/auth/me').set('Cookie', cookie);
    expect(told.body.error).toMatchObject({ code: 'AUTH_1002', details: { reason: 'inactivity' } });
    await sleep(1_100);
    expect((await request(long.getHttpServer()).get('/api/auth/me').set('Cookie', cookie)).status).toBe(401);
    expect(await eventsOf(long, { userId: user.id, type: 'session.expired' })).toHaveLength(1);
  });
});

describe('a password change whose session is signed out after the hash is saved (found by the race finder)', () => {
  const ctx = useTestApp({ db: 'review_pw_signout', env: { TRUST_PROXY: '1' } });
  afterEach(() => jest.restoreAllMocks());

  const signInWith = async (email: string, password: string) =>
    (await send(newAgent(ctx.app).set('X-Forwarded-For', freshIp()), 'post', '/api/auth/login', { email, password })).status;

  it('answers 204 and clears the cookie: the new password is the one that works, and the session stays ended', async () => {
    const user = await createUser(ctx.app);
    const agent = await signIn(ctx.app, user, newAgent(ctx.app).set('X-Forwarded-For', freshIp()));
    // Held at the rotation of the changing session: the hash is saved by then.
    const held = holdNextCall(ctx.app.get(SessionsService), 'endForRotation');
    const changing = send(agent, 'post', '/api/auth/password', { currentPassword: user.password, newPassword: NEW_PASSWORD });
    await held.arrived;
    expect((await send(agent, 'post', '/api/auth/logout', {})).status).toBe(204);
    held.release();
    const changed = await changing;
    expect(changed.status).toBe(204);
    expect(setCookie(changed.headers, sessionCookieName(ctx.app))).toMatch(/Expires=Thu, 01 Jan 1970/);
    expect(await signInWith(user.email, NEW_PASSWORD)).toBe(200);
    expect(await signInWith(user.email, user.password)).toBe(401);
    expect((await agent.get('/api/auth/me')).status).toBe(401);
  });

  it('from the account page, says on the sign-in page that the password was changed and the session had ended', async () => {
    const user = await createUser(ctx.app);
    const agent = await signIn(ctx.app, user, newAgent(ctx.app).set('X-Forwarded-For', freshIp()));
    const page = await agent.get('/account/sessions').expect(200);
    const held = holdNextCall(ctx.app.get(SessionsService), 'endForRotation');
    const changing = agent
      .post('/account/password')
      .type('form')
      .send({ _csrf: formCsrfToken(page.text), currentPassword: user.password, newPassword: NEW_PASSWORD })
      .then((response) => response);
    await held.arrived;
    expect((await send(agent, 'post', '/api/auth/logout', {})).status).toBe(204);
    held.release();
    const changed = await changing;
    expect(changed.status).toBe(303);
    expect(changed.headers.location).toBe('/login?loggedOut=password');
    expect(setCookie(changed.headers, sessionCookieName(ctx.app))).toMatch(/Expires=Thu, 01 Jan 1970/);
    expect((await agent.get(changed.headers.location).expect(200)).text).toContain(LOGIN_MESSAGES.passwordChanged);
    expect(await signInWith(user.email, NEW_PASSWORD)).toBe(200);
    expect(await signInWith(user.email, user.password)).toBe(401);
  });
});

describe('a password change failing after the hash is saved, with a sign-in that raced in', () => {
  let app: NestExpressApplication;
  let other: NestExpressApplication;
  beforeAll(async () => {
    const db = uniqueDatabaseName('review_d');
    app = await createTestApp({ db, env: { TRUST_PROXY: '1' } });
    other = await createTestApp({ db, env: { TRUST_PROXY: '1' } });
  });
  afterEach(() => jest.restoreAllMocks());
  afterAll(async () => {
    await other?.close();
    await destroyTestApp(app);
  });

  it('leaves the account marked, and the next expiry pass ends the session issued under the old stamp', async () => {
    const user = await createUser(app);
    const changer = await signIn(app, user, newAgent(app).set('X-Forwarded-For', freshIp()));
    // Held after the sessions under the old stamp ended, before the hash is saved.
    const held = holdNextCall(app.get(UsersService), 'setPassword');
    const changing = send(changer, 'post', '/api/auth/password', { currentPassword: user.password, newPassword: NEW_PASSWORD });
    await held.arrived;
    // A sign-in with the old password on another instance completes in the gap.
    const intruder = await signIn(other, user, newAgent(other).set('X-Forwarded-For', freshIp()));
    // The database fails at the clean-up after the save (its read of the user's sessions).
    jest.spyOn(app.get(SessionsRepository), 'findActiveOfUser').mockRejectedValueOnce(new MongoNetworkError('connection reset (injected)'));
    held.release();
    const answer = await changing;
    expect(answer.status).toBeGreaterThanOrEqual(500);
    await sleep(1_100);
    const newPasswordWorks = (
      await send(newAgent(app).set('X-Forwarded-For', freshIp()), 'post', '/api/auth/login', { email: user.email, password: NEW_PASSWORD })
    ).status;
    const intruderServed = (await intruder.get('/api/auth/me')).status;
    expect(newPasswordWorks).toBe(200);
    // Until the next pass (every SESSION_SWEEP_SECONDS) the old-stamp session may still be served; after it, never.
    expect(intruderServed).toBe(200);
    expect(await app.get(SessionExpiryPass).run()).toBe(0);
    await sleep(1_100);
    expect((await intruder.get('/api/auth/me')).status).toBe(401);
    const [stale] = await eventsOf(app, { userId: user.id, type: 'session.revoked', reason: 'stale_credentials' });
    expect(stale).toBeDefined();
    expect(
      await connectionOf(app)
        .collection('users')
        .countDocuments({ staleStamps: { $type: 'string' } }),
    ).toBe(0);
  });
});

describe('an expiry pass that fails between marking sessions and recording them', () => {
  const PASS_INTERVAL_MS = 2_000;
  const ctx = useTestApp({
    db: 'review_pass_failure',
    env: { TRUST_PROXY: '1', SESSION_INACTIVITY_MINUTES: String(3_000 / 60_000), SESSION_SWEEP_SECONDS: String(PASS_INTERVAL_MS / 1000) },
  });
  afterEach(() => jest.restoreAllMocks());

  it('records, in a later pass, the end a pass marked and then failed to record', async () => {
    const user = await createUser(ctx.app);
    const agent = await signIn(ctx.app, user, newAgent(ctx.app).set('X-Forwarded-For', freshIp()));
    const id = publicIdOf(await cookieOf(agent));
    await sleep(3_300);
    const originalFind = Collection.prototype.find;
    let failed = false;
    jest.spyOn(Collection.prototype, 'find').mockImplementation(function (this: Collection, ...args: unknown[]) {
      const filter = args[0] as Record<string, unknown> | undefined;
      if (!failed && filter && 'session.endedBy' in filter && '_id' in filter) {
        failed = true;
        return { toArray: () => Promise.reject(new MongoNetworkError('connection reset (injected)')) } as never;
      }
      return (originalFind as (...a: unknown[]) => unknown).apply(this, args) as never;
    });
    // This pass, or the timer's if it came first, meets the failure.
    await ctx.app
      .get(SessionExpiryPass)
      .run()
      .catch(() => undefined);
    expect(failed).toBe(true);
    jest.restoreAllMocks();
    const recorded = () => eventsOf(ctx.app, { sessionId: id, type: 'session.expired' });
    // A mark older than one pass interval is a failed pass's: a later pass takes it over and records it, once.
    const giveUpAt = Date.now() + PASS_INTERVAL_MS + 10_000;
    while ((await recorded()).length === 0 && Date.now() < giveUpAt) {
      await sleep(200);
      await ctx.app.get(SessionExpiryPass).run();
    }
    await ctx.app.get(SessionExpiryPass).run();
    expect(await eventsOf(ctx.app, { sessionId: id, type: 'session.expired' })).toHaveLength(1);
  });
});

/**
 * Found by `npm run soak` (an instance SIGKILLed mid-request): an ending
 * deleted the session, then wrote its event, so a death in between lost the
 * record. Now the mark carries the event, and the expiry pass records it.
 */
describe('a session ended one at a time whose ender dies between its mark and its event', () => {
  const PASS_INTERVAL_MS = 1_000;
  const ctx = useTestApp({ db: 'review_ender_dies', env: { TRUST_PROXY: '1', SESSION_SWEEP_SECONDS: String(PASS_INTERVAL_MS / 1000) } });
  afterEach(() => jest.restoreAllMocks());

  const dies = () => new MongoNetworkError('the process dies here (injected)');

  it.each([
    ['a sign-out', 'logout', (agent: Agent) => send(agent, 'post', '/api/auth/logout')],
    ['ending one’s own session by id', 'session.revoked', (agent: Agent, id: string) => send(agent, 'delete', `/api/sessions/${id}`)],
  ])('%s: never served after, and recorded once, as %s, by the pass', async (_what, type, end) => {
    const user = await createUser(ctx.app);
    const agent = await signIn(ctx.app, user, newAgent(ctx.app).set('X-Forwarded-For', freshIp()));
    const cookie = await cookieOf(agent);
    const id = publicIdOf(cookie);
    jest.spyOn(ctx.app.get(SessionEventsService), 'ended').mockRejectedValueOnce(dies());
    expect((await end(agent, id)).status).toBeGreaterThanOrEqual(500);
    jest.restoreAllMocks();

    expect((await request(ctx.app.getHttpServer()).get('/api/auth/me').set('Cookie', cookie)).status).toBe(401);
    const recorded = () => eventsOf(ctx.app, { sessionId: id, type: { $in: ['logout', 'session.revoked', 'session.expired'] } });
    const giveUpAt = Date.now() + PASS_INTERVAL_MS + 10_000;
    while ((await recorded()).length === 0 && Date.now() < giveUpAt) {
      await sleep(200);
      await ctx.app.get(SessionExpiryPass).run();
    }
    await ctx.app.get(SessionExpiryPass).run();
    const events = await recorded();
    expect(events.map((event) => event.type)).toEqual([type]);
    expect(
      await connectionOf(ctx.app)
        .collection('sessions')
        .countDocuments({ _id: id as never }),
    ).toBe(0);
  });

  /** Once known weak: the pass took the mark over and recorded it, then the slow ender recorded it again. */
  it('a sign-out slower than the pass between its mark and its event: recorded and counted once, by whichever comes first', async () => {
    const user = await createUser(ctx.app);
    const agent = await signIn(ctx.app, user, newAgent(ctx.app).set('X-Forwarded-For', freshIp()));
    const id = publicIdOf(await cookieOf(agent));
    const logoutsBefore = await metricValue(ctx.app, 'auth_logouts_total');
    const eventsBefore = await metricValue(ctx.app, 'session_events_total', { type: 'logout' });
    const slow = holdNextCall(ctx.app.get(SessionEventsService), 'ended');
    const signingOut = send(agent, 'post', '/api/auth/logout');
    await slow.arrived;

    const recorded = () => eventsOf(ctx.app, { sessionId: id, type: 'logout' });
    const giveUpAt = Date.now() + PASS_INTERVAL_MS + 10_000;
    while ((await recorded()).length === 0 && Date.now() < giveUpAt) {
      await sleep(200);
      await ctx.app.get(SessionExpiryPass).run();
    }
    expect(await recorded()).toHaveLength(1);
    slow.release();
    expect((await signingOut).status).toBe(204);
    await ctx.app.get(SessionExpiryPass).run();
    expect(await recorded()).toHaveLength(1);
    expect((await metricValue(ctx.app, 'auth_logouts_total')) - logoutsBefore).toBe(1);
    expect((await metricValue(ctx.app, 'session_events_total', { type: 'logout' })) - eventsBefore).toBe(1);
  });

  it('records the rest of a batch in which one end was recorded already, and counts each end once', async () => {
    const [first, second] = ['a', 'b'].map((name) => ({ id: `batch-${name}-${freshIp()}`, userId: 'batch-user', createdAt: new Date() }));
    const events = ctx.app.get(SessionEventsService);
    const expiredBefore = await metricValue(ctx.app, 'sessions_expired_total', { reason: 'inactivity' });
    await events.expired(first, 'inactivity');
    await events.expiredMany([first, second], 'inactivity');
    for (const session of [first, second]) expect(await eventsOf(ctx.app, { sessionId: session.id })).toHaveLength(1);
    expect((await metricValue(ctx.app, 'sessions_expired_total', { reason: 'inactivity' })) - expiredBefore).toBe(2);
  });
});
