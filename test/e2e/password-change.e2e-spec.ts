import type { NestExpressApplication } from '@nestjs/platform-express';
import { MongoNetworkError } from 'mongodb';
import { SessionExpiryPass } from '../../src/sessions/session-expiry-pass.service';
import { SessionsService } from '../../src/sessions/sessions.service';
import { UsersService } from '../../src/users/users.service';
import { Agent, csrfToken, newAgent, sentCookie, signIn } from '../helpers/agents';
import { formCsrfToken } from '../helpers/forms';
import { eventsOf, holdNextCall, publicIdOf, send } from '../helpers/steps';
import { connectionOf, useTestApp } from '../helpers/test-app';
import { createUser, TestUser } from '../helpers/users';

const NEW_PASSWORD = 'a brand new long passphrase';

/** The next password save has a sign-in with the old password land just before it: that sign-in's browser, once the save ran. */
function signInBeforeTheNextSave(app: NestExpressApplication, user: TestUser): () => Agent {
  const users = app.get(UsersService);
  const setPassword = users.setPassword.bind(users);
  let racer: Agent | undefined;
  jest.spyOn(users, 'setPassword').mockImplementationOnce(async (...args) => {
    racer = await signIn(app, user);
    return setPassword(...args);
  });
  return () => racer!;
}

describe('changing the password', () => {
  const ctx = useTestApp({ db: 'password' });

  it('ends the user’s other sessions, keeps this one, and only the new password signs in', async () => {
    const user = await createUser(ctx.app);
    const here = await signIn(ctx.app, user);
    const elsewhere = await signIn(ctx.app, user);
    const token = await csrfToken(here);
    await here
      .post('/api/auth/password')
      .set('X-CSRF-Token', token)
      .send({ currentPassword: user.password, newPassword: NEW_PASSWORD })
      .expect(204);

    expect((await elsewhere.get('/api/auth/me').expect(401)).body.error.code).toBe('AUTH_1003');
    await here.get('/api/auth/me').expect(200);
    await signIn(ctx.app, { email: user.email, password: NEW_PASSWORD });
    const agent = newAgent(ctx.app);
    const loginToken = await csrfToken(agent);
    await agent.post('/api/auth/login').set('X-CSRF-Token', loginToken).send({ email: user.email, password: user.password }).expect(401);
  });

  it('refuses a wrong current password (AUTH_1001) and a weak new one (VAL_2001), changing nothing', async () => {
    const user = await createUser(ctx.app);
    const agent = await signIn(ctx.app, user);
    const other = await signIn(ctx.app, user);
    const token = await csrfToken(agent);
    const wrong = await agent
      .post('/api/auth/password')
      .set('X-CSRF-Token', token)
      .send({ currentPassword: 'not it at all', newPassword: NEW_PASSWORD });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('AUTH_1001');
    const weak = await agent
      .post('/api/auth/password')
      .set('X-CSRF-Token', token)
      .send({ currentPassword: user.password, newPassword: 'short' });
    expect(weak.status).toBe(400);
    expect(weak.body.error).toMatchObject({ code: 'VAL_2001', details: { fields: { newPassword: expect.any(String) } } });
    await other.get('/api/auth/me').expect(200);
    await signIn(ctx.app, user);
  });

  it('works from the account page and reports the outcome there', async () => {
    const user = await createUser(ctx.app);
    const agent = await signIn(ctx.app, user);
    let page = await agent.get('/account/sessions').expect(200);
    const wrong = await agent
      .post('/account/password')
      .type('form')
      .send({ _csrf: formCsrfToken(page.text), currentPassword: 'nope nope nope', newPassword: NEW_PASSWORD })
      .expect(303);
    expect(wrong.headers.location).toBe('/account/sessions?password=wrong');
    expect((await agent.get(wrong.headers.location).expect(200)).text).toContain('That is not your current password.');

    page = await agent.get('/account/sessions').expect(200);
    const changed = await agent
      .post('/account/password')
      .type('form')
      .send({ _csrf: formCsrfToken(page.text), currentPassword: user.password, newPassword: NEW_PASSWORD })
      .expect(303);
    expect((await agent.get(changed.headers.location).expect(200)).text).toContain('Your password has been changed.');
  });

  it('gives this session a new id: a new cookie, the old one refused, the sign-in time kept', async () => {
    const user = await createUser(ctx.app);
    const agent = await signIn(ctx.app, user);
    const before = await agent.get('/api/auth/me').expect(200);
    const oldCookie = sentCookie(before, 'session_token');
    const token = await csrfToken(agent);
    const changed = await agent
      .post('/api/auth/password')
      .set('X-CSRF-Token', token)
      .send({ currentPassword: user.password, newPassword: NEW_PASSWORD })
      .expect(204);
    // One session cookie, the new one: not a cleared one beside it.
    const sessionCookies = (changed.headers['set-cookie'] as unknown as string[]).filter((cookie) => cookie.startsWith('session_token='));
    expect(sessionCookies).toHaveLength(1);
    expect(sessionCookies[0].split(';')[0]).not.toBe(oldCookie);
    expect(sessionCookies[0]).not.toMatch(/Expires=Thu, 01 Jan 1970/);

    const after = await agent.get('/api/auth/me').expect(200);
    expect(sentCookie(after, 'session_token')).not.toBe(oldCookie);
    expect(after.body.session.createdAt).toBe(before.body.session.createdAt);
    const replay = await newAgent(ctx.app).get('/api/auth/me').set('Cookie', oldCookie).expect(401);
    expect(replay.body.error.code).toBe('AUTH_1003');
  });
});

describe('a password change interrupted by a database failure', () => {
  const ctx = useTestApp({ db: 'password_faults' });
  afterEach(() => jest.restoreAllMocks());

  const outage = () => new MongoNetworkError('injected: connection to MongoDB lost');

  async function changePassword(agent: Agent, user: TestUser) {
    const token = await csrfToken(agent);
    return agent.post('/api/auth/password').set('X-CSRF-Token', token).send({ currentPassword: user.password, newPassword: NEW_PASSWORD });
  }

  async function passwordWorks(email: string, password: string): Promise<boolean> {
    const agent = newAgent(ctx.app);
    const token = await csrfToken(agent);
    return (await agent.post('/api/auth/login').set('X-CSRF-Token', token).send({ email, password })).status === 200;
  }

  /** The property that matters: whoever else was signed in is out before the new password counts. */
  async function expectNoOtherSessionUnderNewPassword(user: TestUser, others: Agent[]) {
    if (!(await passwordWorks(user.email, NEW_PASSWORD))) return;
    for (const other of others) await other.get('/api/auth/me').expect(401);
  }

  it('leaves the old password in force when saving the new hash fails, with the other sessions already ended', async () => {
    const user = await createUser(ctx.app);
    const [here, attacker] = [await signIn(ctx.app, user), await signIn(ctx.app, user)];
    jest.spyOn(ctx.app.get(UsersService), 'setPassword').mockRejectedValueOnce(outage());
    const response = await changePassword(here, user);
    expect(response.status).toBe(503);
    expect(response.body.error.code).toBe('SYS_9002');
    await attacker.get('/api/auth/me').expect(401);
    expect(await passwordWorks(user.email, user.password)).toBe(true);
    expect(await passwordWorks(user.email, NEW_PASSWORD)).toBe(false);
    // This session goes on, and trying again from it works.
    await here.get('/api/auth/me').expect(200);
    expect((await changePassword(here, user)).status).toBe(204);
    expect(await passwordWorks(user.email, NEW_PASSWORD)).toBe(true);
  });

  it('changes nothing when ending the other sessions fails', async () => {
    const user = await createUser(ctx.app);
    const [here, attacker] = [await signIn(ctx.app, user), await signIn(ctx.app, user)];
    jest.spyOn(ctx.app.get(SessionsService), 'revokeUnder').mockRejectedValueOnce(outage());
    expect((await changePassword(here, user)).status).toBe(503);
    expect(await passwordWorks(user.email, NEW_PASSWORD)).toBe(false);
    await expectNoOtherSessionUnderNewPassword(user, [attacker]);
    // This session goes on, and trying again from it works.
    await here.get('/api/auth/me').expect(200);
    expect((await changePassword(here, user)).status).toBe(204);
    expect(await passwordWorks(user.email, NEW_PASSWORD)).toBe(true);
  });

  it('fails closed when moving the session back fails too: the next try ends the session, the old password still works', async () => {
    const user = await createUser(ctx.app);
    const here = await signIn(ctx.app, user);
    jest.spyOn(ctx.app.get(UsersService), 'setPassword').mockRejectedValueOnce(outage());
    const sessions = ctx.app.get(SessionsService);
    const move = sessions.moveToStamp.bind(sessions);
    jest.spyOn(sessions, 'moveToStamp').mockImplementationOnce(move).mockRejectedValueOnce(outage());
    expect((await changePassword(here, user)).status).toBe(503);
    // Left under a stamp the account never got: a credential check takes it for a stale session.
    const again = await changePassword(here, user);
    expect([again.status, again.body.error?.code]).toEqual([401, 'AUTH_1003']);
    await here.get('/api/auth/me').expect(401);
    expect(await passwordWorks(user.email, user.password)).toBe(true);
    expect(await passwordWorks(user.email, NEW_PASSWORD)).toBe(false);
  });

  /** The next password save lands, then its answer is lost (it throws); held in between when `held` is given. */
  function saveLandingThenFailing(held?: Promise<void>): { landed: Promise<void> } {
    const users = ctx.app.get(UsersService);
    const setPassword = users.setPassword.bind(users);
    let landed!: () => void;
    const reached = new Promise<void>((resolve) => (landed = resolve));
    jest.spyOn(users, 'setPassword').mockImplementationOnce(async (...args) => {
      if (!(await setPassword(...args))) return false;
      landed();
      await held;
      throw outage();
    });
    return { landed: reached };
  }

  async function expectEveryLiveSessionUnderTheAccountsStamp(user: TestUser) {
    const db = connectionOf(ctx.app);
    const account = await db.collection('users').findOne({ email: user.email });
    const live = await db
      .collection('sessions')
      .find({ 'session.userId': user.id, 'session.endedReason': { $exists: false } })
      .toArray();
    expect(live.map((document) => document.session.stamp)).toEqual(live.map(() => account?.credentialStamp));
  }

  it('goes on as saved when the save landed but its answer was lost: 204, the other sessions ended, this one kept', async () => {
    const user = await createUser(ctx.app);
    const [here, attacker] = [await signIn(ctx.app, user), await signIn(ctx.app, user)];
    saveLandingThenFailing();
    expect((await changePassword(here, user)).status).toBe(204);
    await attacker.get('/api/auth/me').expect(401);
    await here.get('/api/auth/me').expect(200);
    expect(await passwordWorks(user.email, NEW_PASSWORD)).toBe(true);
    await expectEveryLiveSessionUnderTheAccountsStamp(user);
  });

  it('leaves no session under the replaced stamp when an admin’s clean-up runs between a save that landed and its lost answer', async () => {
    const admin = await createUser(ctx.app, { role: 'admin' });
    const adminAgent = await signIn(ctx.app, admin);
    const user = await createUser(ctx.app, { role: 'admin' });
    const cleanUp = holdNextCall(ctx.app.get(SessionsService), 'credentialsChanged');
    const demoting = send(adminAgent, 'patch', `/api/admin/users/${user.id}`, { role: 'user' });
    await cleanUp.arrived;
    // Signed in under the demotion's stamp; the password change's save lands, and its answer is held until the admin's clean-up is done.
    const here = await signIn(ctx.app, user);
    let release!: () => void;
    const save = saveLandingThenFailing(new Promise<void>((resolve) => (release = resolve)));
    const changing = changePassword(here, user);
    await save.landed;
    cleanUp.release();
    expect((await demoting).status).toBe(200);
    release();

    expect((await changing).status).toBe(204);
    await ctx.app.get(SessionExpiryPass).run();
    await here.get('/api/auth/me').expect(200);
    await expectEveryLiveSessionUnderTheAccountsStamp(user);
  });

  it('has every other session ended when the failure comes after the new hash is saved', async () => {
    const user = await createUser(ctx.app);
    const [here, attacker] = [await signIn(ctx.app, user), await signIn(ctx.app, user)];
    jest.spyOn(ctx.app.get(SessionsService), 'revokeLeftBehind').mockRejectedValueOnce(outage());
    expect((await changePassword(here, user)).status).toBe(503);
    expect(await passwordWorks(user.email, NEW_PASSWORD)).toBe(true);
    await expectNoOtherSessionUnderNewPassword(user, [attacker]);
  });

  it('also ends a session signed in with the old password while the change was under way', async () => {
    const user = await createUser(ctx.app);
    const here = await signIn(ctx.app, user);
    const racer = signInBeforeTheNextSave(ctx.app, user);
    expect((await changePassword(here, user)).status).toBe(204);
    await racer().get('/api/auth/me').expect(401);
    await here.get('/api/auth/me').expect(200);
  });
});

/**
 * The expiry pass finishes credential changes left half-done, so it runs while
 * changes are under way: it must end the sessions under the replaced stamp
 * only, never the session making the change (found by `npm run soak`: a
 * password change answered AUTH_1003 after the new password was saved).
 */
describe('a password change with the expiry pass or an admin in its gaps', () => {
  const ctx = useTestApp({ db: 'password_gaps', env: { SESSION_SWEEP_SECONDS: '3600' } });
  afterEach(() => jest.restoreAllMocks());

  const change = (agent: Agent, user: TestUser) =>
    send(agent, 'post', '/api/auth/password', { currentPassword: user.password, newPassword: NEW_PASSWORD });

  /**
   * A change from `here` that a sign-in with the old password races (it lands
   * before the save) and whose clean-up after the save fails: 503, the new
   * password saved. The racing sign-in's browser.
   */
  async function changeFailingAfterTheSave(here: Agent, user: TestUser): Promise<Agent> {
    const racer = signInBeforeTheNextSave(ctx.app, user);
    jest.spyOn(ctx.app.get(SessionsService), 'revokeLeftBehind').mockRejectedValueOnce(new MongoNetworkError('injected'));
    expect((await change(here, user)).status).toBe(503);
    jest.restoreAllMocks();
    return racer();
  }

  it('keeps the changer’s session when the pass runs between saving the hash and the rotation', async () => {
    const user = await createUser(ctx.app);
    const [here, elsewhere] = [await signIn(ctx.app, user), await signIn(ctx.app, user)];
    const held = holdNextCall(ctx.app.get(UsersService), 'staleSessionsEnded');
    const changing = change(here, user);
    await held.arrived;
    await ctx.app.get(SessionExpiryPass).run();
    held.release();

    expect((await changing).status).toBe(204);
    await here.get('/api/auth/me').expect(200);
    expect((await elsewhere.get('/api/auth/me').expect(401)).body.error.code).toBe('AUTH_1003');
    await signIn(ctx.app, { email: user.email, password: NEW_PASSWORD });
  });

  it('leaves the changer signed in when the change fails after the save, and the pass ends only what was under the old stamp', async () => {
    const user = await createUser(ctx.app);
    const here = await signIn(ctx.app, user);
    const changerId = publicIdOf(sentCookie(await here.get('/api/auth/me').expect(200), 'session_token'));
    const racer = await changeFailingAfterTheSave(here, user);

    const racerId = publicIdOf(sentCookie(await racer.get('/api/auth/me').expect(200), 'session_token'));
    // The pass expires nothing here; it ends the session left under the replaced stamp, and records it.
    expect(await ctx.app.get(SessionExpiryPass).run()).toBe(0);
    expect(await eventsOf(ctx.app, { sessionId: racerId, type: 'session.revoked', reason: 'stale_credentials' })).toHaveLength(1);
    await racer.get('/api/auth/me').expect(401);
    await here.get('/api/auth/me').expect(200);
    expect(await eventsOf(ctx.app, { sessionId: changerId, type: 'session.revoked' })).toHaveLength(0);
    await signIn(ctx.app, { email: user.email, password: NEW_PASSWORD });
  });

  it('ends, with the next change, a session an earlier change whose clean-up failed left behind', async () => {
    const user = await createUser(ctx.app);
    const here = await signIn(ctx.app, user);
    const racer = await changeFailingAfterTheSave(here, user);
    const newer = 'an even newer long passphrase';
    expect((await send(here, 'post', '/api/auth/password', { currentPassword: NEW_PASSWORD, newPassword: newer })).status).toBe(204);
    await racer.get('/api/auth/me').expect(401);
    await here.get('/api/auth/me').expect(200);
    expect(await connectionOf(ctx.app).collection('users').findOne({ email: user.email })).toMatchObject({ staleStamps: [] });
  });

  it('ends a session under a password changed while an admin disabled the account, also when the admin’s clean-up fails', async () => {
    const user = await createUser(ctx.app);
    const admin = await createUser(ctx.app, { role: 'admin' });
    const adminAgent = await signIn(ctx.app, admin);
    const sessions = ctx.app.get(SessionsService);
    const clearStale = sessions.credentialsChanging.bind(sessions);
    let reached!: () => void;
    let release!: () => void;
    const arrived = new Promise<void>((resolve) => (reached = resolve));
    const gate = new Promise<void>((resolve) => (release = resolve));
    // The admin has read the account and ended its sessions; held before its write. Its clean-up after the write fails.
    jest.spyOn(sessions, 'credentialsChanging').mockImplementationOnce(async (...args) => {
      await clearStale(...args);
      reached();
      await gate;
    });
    jest.spyOn(sessions, 'credentialsChanged').mockRejectedValueOnce(new MongoNetworkError('injected'));
    const disabling = send(adminAgent, 'patch', `/api/admin/users/${user.id}`, { disabled: true });
    await arrived;
    const here = await signIn(ctx.app, user);
    expect((await change(here, user)).status).toBe(204);
    await here.get('/api/auth/me').expect(200);
    release();
    // The write finds the password's stamp, not the one read: it ends the sessions again, and writes over that stamp.
    expect((await disabling).status).toBe(503);
    jest.restoreAllMocks();
    await here.get('/api/auth/me').expect(401);
    const account = await connectionOf(ctx.app).collection('users').findOne({ email: user.email });
    expect(account).toMatchObject({ disabled: true });
    expect(account?.staleStamps).toHaveLength(1);
    await ctx.app.get(SessionExpiryPass).run();
    expect(await connectionOf(ctx.app).collection('users').findOne({ email: user.email })).toMatchObject({ staleStamps: [] });
  });

  it('keeps the session of a password changed after an admin’s role change was written and before its clean-up ran', async () => {
    const user = await createUser(ctx.app, { role: 'admin' });
    const before = await signIn(ctx.app, user);
    const admin = await createUser(ctx.app, { role: 'admin' });
    const adminAgent = await signIn(ctx.app, admin);
    const held = holdNextCall(ctx.app.get(SessionsService), 'credentialsChanged');
    const demoting = send(adminAgent, 'patch', `/api/admin/users/${user.id}`, { role: 'user' });
    await held.arrived;
    // The demotion is written; before its clean-up, the user signs in under its stamp and changes the password.
    const here = await signIn(ctx.app, user);
    expect((await change(here, user)).status).toBe(204);
    held.release();
    expect((await demoting).status).toBe(200);

    await before.get('/api/auth/me').expect(401);
    expect((await here.get('/api/auth/me').expect(200)).body.user).toMatchObject({ role: 'user' });
    expect(await connectionOf(ctx.app).collection('users').findOne({ email: user.email })).toMatchObject({ staleStamps: [] });
  });

  it('loses to an admin who disables the account between the session moving ahead and the save, even when the admin’s clean-up fails', async () => {
    const user = await createUser(ctx.app);
    const here = await signIn(ctx.app, user);
    const changerId = publicIdOf(sentCookie(await here.get('/api/auth/me').expect(200), 'session_token'));
    const admin = await createUser(ctx.app, { role: 'admin' });
    const adminAgent = await signIn(ctx.app, admin);
    const held = holdNextCall(ctx.app.get(UsersService), 'setPassword');
    const changing = change(here, user);
    await held.arrived;
    // The admin's write lands and its clean-up after the write fails: the one before it has ended the changer's session.
    jest.spyOn(ctx.app.get(SessionsService), 'credentialsChanged').mockRejectedValueOnce(new MongoNetworkError('injected'));
    expect((await send(adminAgent, 'patch', `/api/admin/users/${user.id}`, { disabled: true })).status).toBe(503);
    held.release();

    expect((await changing).body.error.code).toBe('AUTH_1003');
    await here.get('/api/auth/me').expect(401);
    const endings = await eventsOf(ctx.app, { sessionId: changerId, type: { $in: ['session.revoked', 'logout', 'session.expired'] } });
    expect(endings).toHaveLength(1);
    jest.restoreAllMocks();
    expect((await send(adminAgent, 'patch', `/api/admin/users/${user.id}`, { disabled: false })).status).toBe(200);
    await signIn(ctx.app, user);
  });
});
