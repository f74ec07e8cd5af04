import type { NestExpressApplication } from '@nestjs/platform-express';
import { MongoNetworkError } from 'mongodb';
import { HashedMongoStore } from '../../src/sessions/hashed-mongo-store';
import { SESSION_STORE } from '../../src/sessions/session.constants';
import { SessionExpiryPass } from '../../src/sessions/session-expiry-pass.service';
import { SessionHttpAdapter } from '../../src/session-http/session-http.adapter';
import { SessionsRepository } from '../../src/sessions/sessions.repository';
import { SessionsService } from '../../src/sessions/sessions.service';
import { Agent, newAgent, sentCookie, setCookie, signIn, sleep } from '../helpers/agents';
import { eventsOf, holdNextCall, publicIdOf, send } from '../helpers/steps';
import { connectionOf, createTestApp, destroyTestApp, uniqueDatabaseName, useTestApp } from '../helpers/test-app';
import { createUser, TestUser } from '../helpers/users';

const NEW_PASSWORD = 'a brand new long passphrase';
const ENDING_EVENTS = ['logout', 'session.expired', 'session.revoked', 'session.anomaly', 'session.rotated'];
let nextIp = 1;
const freshIp = () => `198.51.100.${nextIp++}`;

async function liveSessionsOf(app: NestExpressApplication, userId: string) {
  const documents = await connectionOf(app).collection('sessions').find({ 'session.userId': userId }).toArray();
  const now = Date.now();
  return documents.filter((document) => {
    const { createdAt, lastActivityAt, endedReason } = document.session as { createdAt: Date; lastActivityAt: Date; endedReason?: string };
    return endedReason === undefined && lastActivityAt.getTime() + 15 * 60_000 > now && createdAt.getTime() + 160 * 60_000 > now;
  });
}

async function endingEventsOf(app: NestExpressApplication, sessionId: string) {
  return eventsOf(app, { sessionId, type: { $in: ENDING_EVENTS } });
}

const post = (agent: Agent, path: string, body: object = {}) => send(agent, 'post', path, body);

async function signInResponse(app: NestExpressApplication, user: Pick<TestUser, 'email' | 'password'>, agent = newAgent(app)) {
  return post(agent, '/api/auth/login', { email: user.email, password: user.password });
}

/** The races between writers of `sessions`, each with a step injected between two writes. */
describe('one owner of a session’s life, under races', () => {
  const db = uniqueDatabaseName('session_races');
  let app: NestExpressApplication;
  let other: NestExpressApplication;
  let store: HashedMongoStore;
  beforeAll(async () => {
    const env = { TRUST_PROXY: '1', SESSION_MAX_PER_USER: '0' };
    app = await createTestApp({ db, env });
    // A second instance on the same database: it shares nothing with the first but MongoDB.
    other = await createTestApp({ db, env });
    store = app.get<HashedMongoStore>(SESSION_STORE);
  });
  afterEach(() => jest.restoreAllMocks());
  afterAll(async () => {
    await other?.close();
    await destroyTestApp(app);
  });

  it('ends a sign-in that proved the old password while a password change ran on another instance', async () => {
    const user = await createUser(app);
    const changer = await signIn(other, user, newAgent(other).set('X-Forwarded-For', freshIp()));
    const held = holdNextCall(store, 'insert');
    const racing = signInResponse(app, user, newAgent(app).set('X-Forwarded-For', freshIp()));
    await held.arrived;
    await post(changer, '/api/auth/password', { currentPassword: user.password, newPassword: NEW_PASSWORD }).then((r) =>
      expect(r.status).toBe(204),
    );
    held.release();
    const response = await racing;
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('AUTH_1003');
    expect(setCookie(response.headers, 'session_token')).toBeUndefined();
    // Only the session that changed the password is live, under its new id.
    const live = await liveSessionsOf(app, user.id);
    expect(live.map((document) => document._id)).toEqual([
      publicIdOf(sentCookie(await changer.get('/api/auth/me').expect(200), 'session_token')),
    ]);
    const [stale] = await eventsOf(app, { userId: user.id, type: 'session.revoked', reason: 'stale_credentials' });
    expect(stale).toBeDefined();
    expect(await endingEventsOf(app, stale.sessionId as string)).toHaveLength(1);
  });

  it('leaves no old-password session alive after a burst of old-password sign-ins on both instances races a password change', async () => {
    const user = await createUser(app);
    const changer = await signIn(other, user, newAgent(other).set('X-Forwarded-For', freshIp()));
    const instances = [app, other];
    // Four, so that with the change's own attempt no more than LOGIN_MAX_FAILURES (5) are counted at once.
    const burst = Array.from({ length: 4 }, (_, i) => {
      const agent = newAgent(instances[i % 2]).set('X-Forwarded-For', `${freshIp()}, 203.0.113.9`);
      // One browser also carries a forged session cookie: signing in over it must change nothing here.
      if (i === 0) agent.set('Cookie', 'session_token=s%3Aforged.signature');
      return signInResponse(instances[i % 2], user, agent);
    });
    const [changed, ...signIns] = await Promise.all([
      post(changer, '/api/auth/password', { currentPassword: user.password, newPassword: NEW_PASSWORD }),
      ...burst,
    ]);
    expect(changed.status).toBe(204);
    for (const response of signIns) expect([200, 401, 429]).toContain(response.status);
    await sleep(1_100);
    const stamp = (await connectionOf(app).collection('users').findOne({ email: user.email }))?.credentialStamp;
    const live = await liveSessionsOf(app, user.id);
    expect(live.map((document) => document.session.stamp)).toEqual([stamp]);
    for (const response of signIns.filter(({ status }) => status === 200)) {
      // The forged cookie's answer also clears it first: the session's cookie is the last one set.
      const cookie = (response.headers['set-cookie'] as unknown as string[])
        .filter((header) => header.startsWith('session_token=s'))
        .map((header) => header.split(';')[0])
        .pop()!;
      for (const instance of instances) await newAgent(instance).get('/api/auth/me').set('Cookie', cookie).expect(401);
      expect(await endingEventsOf(app, publicIdOf(cookie))).toHaveLength(1);
    }
  });

  it('does not bring a session back when an admin disables the user during their password change', async () => {
    const admin = await createUser(app, { role: 'admin' });
    const user = await createUser(app);
    const adminAgent = await signIn(other, admin, newAgent(other).set('X-Forwarded-For', freshIp()));
    const agent = await signIn(app, user, newAgent(app).set('X-Forwarded-For', freshIp()));
    // Held at the new session's insert: the hash is saved and the old session ended by then.
    const held = holdNextCall(store, 'insert');
    const changing = post(agent, '/api/auth/password', { currentPassword: user.password, newPassword: NEW_PASSWORD });
    await held.arrived;
    const disabled = await send(adminAgent, 'patch', `/api/admin/users/${user.id}`, { disabled: true });
    expect(disabled.status).toBe(200);
    held.release();
    const response = await changing;
    // The change is made (a 204 answers exactly the changes that are); the session is not.
    expect(response.status).toBe(204);
    expect(setCookie(response.headers, 'session_token')).toMatch(/Expires=Thu, 01 Jan 1970/);
    expect(await liveSessionsOf(app, user.id)).toEqual([]);
    await agent.get('/api/auth/me').expect(401);
    const signInWith = async (password: string) =>
      (await post(newAgent(app).set('X-Forwarded-For', freshIp()), '/api/auth/login', { email: user.email, password })).body.error?.code;
    expect(await signInWith(NEW_PASSWORD)).toBe('AUTH_1007');
    expect(await signInWith(user.password)).toBe('AUTH_1001');
  });

  it('does not let a demoted admin keep the admin role through a re-authentication', async () => {
    const [admin, demoted] = [await createUser(app, { role: 'admin' }), await createUser(app, { role: 'admin' })];
    const adminAgent = await signIn(other, admin, newAgent(other).set('X-Forwarded-For', freshIp()));
    const agent = await signIn(app, demoted, newAgent(app).set('X-Forwarded-For', freshIp()));
    const held = holdNextCall(store, 'insert');
    const reauth = post(agent, '/api/auth/reauth', { password: demoted.password });
    await held.arrived;
    const demote = await send(adminAgent, 'patch', `/api/admin/users/${demoted.id}`, { role: 'user' });
    expect(demote.status).toBe(200);
    held.release();
    expect((await reauth).status).toBe(401);
    expect(await liveSessionsOf(app, demoted.id)).toEqual([]);
    await agent.get('/api/admin/users').expect(401);
  });

  it('refuses a password change once an admin’s change of the account came first, and keeps the old password', async () => {
    const [admin, user] = [await createUser(app, { role: 'admin' }), await createUser(app)];
    const adminAgent = await signIn(other, admin, newAgent(other).set('X-Forwarded-For', freshIp()));
    const agent = await signIn(app, user, newAgent(app).set('X-Forwarded-For', freshIp()));
    // Held after the current password was proved, before anything is written.
    const held = holdNextCall(app.get(SessionsRepository), 'findActiveOfUser');
    const changing = post(agent, '/api/auth/password', { currentPassword: user.password, newPassword: NEW_PASSWORD });
    await held.arrived;
    expect((await send(adminAgent, 'patch', `/api/admin/users/${user.id}`, { role: 'admin' })).status).toBe(200);
    held.release();
    expect((await changing).status).toBe(401);
    expect((await signInResponse(app, { email: user.email, password: NEW_PASSWORD })).status).toBe(401);
    expect((await signInResponse(app, user)).status).toBe(200);
  });

  /**
   * Two sessions of a new account change its password: the loser's change (on
   * `app`) is held at `hold`'s step while the winner's (on `other`) runs to
   * its answer; then the loser goes on.
   */
  async function changeWhileAnotherIsHeld(hold: () => { arrived: Promise<void>; release: () => void }) {
    const user = await createUser(app);
    const winner = await signIn(other, user, newAgent(other).set('X-Forwarded-For', freshIp()));
    const loser = await signIn(app, user, newAgent(app).set('X-Forwarded-For', freshIp()));
    const held = hold();
    const losing = post(loser, '/api/auth/password', { currentPassword: user.password, newPassword: `${NEW_PASSWORD} too` });
    await held.arrived;
    const won = await post(winner, '/api/auth/password', { currentPassword: user.password, newPassword: NEW_PASSWORD });
    expect(won.status).toBe(204);
    held.release();
    const lost = await losing;
    expect([lost.status, lost.body.error?.code]).toEqual([401, 'AUTH_1003']);
    return { user, winner, loser };
  }

  it('does not let a password change whose session ended while it checked the password sign out the change that won', async () => {
    // Held once its password is proved against the old hash, before it writes anything.
    const { user, winner, loser } = await changeWhileAnotherIsHeld(() => holdNextCall(app.get(SessionHttpAdapter), 'assertIssuedUnder'));
    for (const instance of [app, other])
      await newAgent(instance)
        .get('/api/auth/me')
        .set('Cookie', sentCookie(await winner.get('/api/auth/me').expect(200), 'session_token'))
        .expect(200);
    await loser.get('/api/auth/me').expect(401);
    const signInWith = async (password: string) =>
      (await signInResponse(app, { email: user.email, password }, newAgent(app).set('X-Forwarded-For', freshIp()))).status;
    expect(await signInWith(NEW_PASSWORD)).toBe(200);
    expect(await signInWith(`${NEW_PASSWORD} too`)).toBe(401);
  });

  it('does not let a losing password change that moved its session before the winner saved sign out the winner', async () => {
    // Held with its session moved ahead to its own new stamp, before it ends the sessions under the old one.
    const { user, winner, loser } = await changeWhileAnotherIsHeld(() => holdNextCall(app.get(SessionsService), 'revokeUnder'));
    const winnerCookie = sentCookie(await winner.get('/api/auth/me').expect(200), 'session_token');
    for (const instance of [app, other]) await newAgent(instance).get('/api/auth/me').set('Cookie', winnerCookie).expect(200);
    expect(await endingEventsOf(app, publicIdOf(winnerCookie))).toEqual([]);
    await loser.get('/api/auth/me').expect(401);
    const stamp = (await connectionOf(app).collection('users').findOne({ email: user.email }))?.credentialStamp;
    expect((await liveSessionsOf(app, user.id)).map((live) => [live._id, live.session.stamp])).toEqual([[publicIdOf(winnerCookie), stamp]]);
  });

  /** A change held with its session moved ahead, losing to one saved on the other instance whose clean-up then fails (503). */
  async function loseToAChangeWhoseCleanUpFails(failLoserEnd: boolean) {
    const user = await createUser(app);
    const winner = await signIn(other, user, newAgent(other).set('X-Forwarded-For', freshIp()));
    const loser = await signIn(app, user, newAgent(app).set('X-Forwarded-For', freshIp()));
    const loserCookie = sentCookie(await loser.get('/api/auth/me').expect(200), 'session_token');
    const held = holdNextCall(app.get(SessionsService), 'revokeUnder');
    const losing = post(loser, '/api/auth/password', { currentPassword: user.password, newPassword: `${NEW_PASSWORD} too` });
    await held.arrived;
    jest.spyOn(other.get(SessionsService), 'revokeLeftBehind').mockRejectedValueOnce(new MongoNetworkError('injected'));
    expect((await post(winner, '/api/auth/password', { currentPassword: user.password, newPassword: NEW_PASSWORD })).status).toBe(503);
    if (failLoserEnd) jest.spyOn(app.get(SessionsRepository), 'markEnding').mockRejectedValueOnce(new MongoNetworkError('injected'));
    held.release();
    const lost = await losing;
    jest.restoreAllMocks();
    return { user, loserCookie, lost };
  }

  it('ends a losing change’s session at once, though the winner’s clean-up failed', async () => {
    const { loserCookie, lost } = await loseToAChangeWhoseCleanUpFails(false);
    expect([lost.status, lost.body.error?.code]).toEqual([401, 'AUTH_1003']);
    for (const instance of [app, other]) await newAgent(instance).get('/api/auth/me').set('Cookie', loserCookie).expect(401);
    expect(await endingEventsOf(app, publicIdOf(loserCookie))).toMatchObject([{ type: 'session.revoked', reason: 'stale_credentials' }]);
  });

  it('has the expiry pass end a losing change’s session when neither the winner’s clean-up nor the loser itself could', async () => {
    const { user, loserCookie, lost } = await loseToAChangeWhoseCleanUpFails(true);
    expect(lost.status).toBe(503);
    await app.get(SessionExpiryPass).run();
    await newAgent(app).get('/api/auth/me').set('Cookie', loserCookie).expect(401);
    expect(await endingEventsOf(app, publicIdOf(loserCookie))).toMatchObject([{ type: 'session.revoked', reason: 'stale_credentials' }]);
    const stamp = (await connectionOf(app).collection('users').findOne({ email: user.email }))?.credentialStamp;
    for (const live of await liveSessionsOf(app, user.id)) expect(live.session.stamp).toBe(stamp);
  });

  it('keeps a burst of password changes from four sessions on both instances safe: at most one saved, no old id served', async () => {
    const user = await createUser(app);
    const instances = [app, other, app, other];
    const agents = await Promise.all(
      instances.map((instance) => signIn(instance, user, newAgent(instance).set('X-Forwarded-For', freshIp()))),
    );
    const cookies = await Promise.all(
      agents.map(async (agent) => sentCookie(await agent.get('/api/auth/me').expect(200), 'session_token')),
    );
    const passwords = agents.map((_, i) => `${NEW_PASSWORD} number ${i}`);
    const answers = await Promise.all(
      agents.map((agent, i) => post(agent, '/api/auth/password', { currentPassword: user.password, newPassword: passwords[i] })),
    );
    // A change that lost answers why: its current password was no longer the password, or its session had been ended.
    const outcomes = answers.map(({ status, body }) => (status === 204 ? 204 : `${status} ${body.error?.code}`));
    for (const outcome of outcomes) expect([204, '401 AUTH_1001', '401 AUTH_1003']).toContain(outcome);
    const winners = outcomes.flatMap((outcome, i) => (outcome === 204 ? [i] : []));
    expect(winners.length).toBeLessThanOrEqual(1);
    const signInWith = async (password: string) =>
      (await signInResponse(app, { email: user.email, password }, newAgent(app).set('X-Forwarded-For', freshIp()))).status;
    const losing = passwords.filter((password, i) => !winners.includes(i));
    // The password in force first: its success sets the account's failure count back to 0 before the (at most 4) wrong ones.
    expect(await signInWith(winners.length === 1 ? passwords[winners[0]] : user.password)).toBe(200);
    for (const password of winners.length === 1 ? [user.password, ...losing] : losing) expect(await signInWith(password)).toBe(401);
    // Every session's id from before is refused on both instances: the losers' ended, the winner's replaced by a new one,
    // which, if the losers left it alive, is under the account's stamp.
    for (const cookie of cookies)
      for (const instance of [app, other]) await newAgent(instance).get('/api/auth/me').set('Cookie', cookie).expect(401);
    const stamp = (await connectionOf(app).collection('users').findOne({ email: user.email }))?.credentialStamp;
    for (const live of await liveSessionsOf(app, user.id)) expect(live.session.stamp).toBe(stamp);
  });

  it('records the ending of a live session a sign-in replaces', async () => {
    const user = await createUser(app);
    const agent = await signIn(app, user, newAgent(app).set('X-Forwarded-For', freshIp()));
    const first = publicIdOf(sentCookie(await agent.get('/api/auth/me').expect(200), 'session_token'));
    expect((await signInResponse(app, user, agent)).status).toBe(200);
    const [ending] = await endingEventsOf(app, first);
    expect(ending).toMatchObject({ type: 'session.revoked', reason: 'signed_in_again' });
    expect(await endingEventsOf(app, first)).toHaveLength(1);
  });

  it('clears the cookie of an admin who ends their own session through the admin API', async () => {
    const admin = await createUser(app, { role: 'admin' });
    const agent = await signIn(app, admin, newAgent(app).set('X-Forwarded-For', freshIp()));
    const own = publicIdOf(sentCookie(await agent.get('/api/auth/me').expect(200), 'session_token'));
    const response = await send(agent, 'delete', `/api/admin/sessions/${own}`);
    expect(response.status).toBe(204);
    expect(setCookie(response.headers, 'session_token')).toMatch(/Expires=Thu, 01 Jan 1970/);
    expect(response.headers['clear-site-data']).toBe('"cache", "storage"');
    expect(await endingEventsOf(app, own)).toHaveLength(1);
  });
});

describe('endings under expiry, and the session limit', () => {
  const INACTIVITY_MS = 3_000;
  const ctx = useTestApp({
    db: 'session_races_expiry',
    env: {
      TRUST_PROXY: '1',
      SESSION_INACTIVITY_MINUTES: String(INACTIVITY_MS / 60_000),
      SESSION_MAX_PER_USER: '2',
      // Attempts count before their password is checked: 6 at once against a limit of 5 may meet a full counter.
      LOGIN_MAX_FAILURES: '10',
    },
  });
  afterEach(() => jest.restoreAllMocks());

  it('keeps a session ended when its activity write lands after the expiry pass ended it', async () => {
    const user = await createUser(ctx.app);
    const agent = await signIn(ctx.app, user, newAgent(ctx.app).set('X-Forwarded-For', freshIp()));
    const id = publicIdOf(sentCookie(await agent.get('/api/auth/session').expect(200), 'session_token'));
    // A request a second before the idle deadline: its activity write is held until the pass has ended the
    // session. Were the write to land, it would move the deadline two seconds past now.
    await sleep(INACTIVITY_MS - 1_000);
    const held = holdNextCall(ctx.app.get(SessionsRepository), 'recordActivity');
    await agent.get('/api/auth/me').expect(200);
    await held.arrived;
    await sleep(1_300);
    expect(await ctx.app.get(SessionExpiryPass).run()).toBeGreaterThanOrEqual(1);
    held.release();
    await sleep(50);
    const after = await agent.get('/api/auth/me');
    expect(after.status).toBe(401);
    expect(after.body.error).toMatchObject({ code: 'AUTH_1002', details: { reason: 'inactivity' } });
    await post(agent, '/api/auth/logout').then((response) => expect(response.status).toBe(204));
    const endings = await endingEventsOf(ctx.app, id);
    expect(endings.map((event) => event.type)).toEqual(['session.expired']);
  });

  it('counts only live sessions in an emergency sign-out: an expired one is neither ended again nor recorded', async () => {
    const [admin, user] = [await createUser(ctx.app, { role: 'admin' }), await createUser(ctx.app)];
    await signIn(ctx.app, user, newAgent(ctx.app).set('X-Forwarded-For', freshIp()));
    await sleep(INACTIVITY_MS + 200);
    await ctx.app.get(SessionExpiryPass).run();
    const agent = await signIn(ctx.app, admin, newAgent(ctx.app).set('X-Forwarded-For', freshIp()));
    const response = await send(agent, 'delete', '/api/admin/sessions');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ ended: 0 });
    expect(await eventsOf(ctx.app, { userId: user.id, type: 'session.revoked' })).toEqual([]);
  });

  it(`keeps SESSION_MAX_PER_USER under parallel sign-ins; the others end as 'limit', once each`, async () => {
    const user = await createUser(ctx.app);
    const responses = await Promise.all(
      Array.from({ length: 6 }, () => signInResponse(ctx.app, user, newAgent(ctx.app).set('X-Forwarded-For', freshIp()))),
    );
    expect(responses.map((response) => response.status)).toEqual(Array(6).fill(200));
    expect(await liveSessionsOf(ctx.app, user.id)).toHaveLength(2);
    const limited = await eventsOf(ctx.app, { userId: user.id, type: 'session.revoked', reason: 'limit' });
    expect(limited).toHaveLength(4);
    expect(new Set(limited.map((event) => event.sessionId)).size).toBe(4);
  });
});
