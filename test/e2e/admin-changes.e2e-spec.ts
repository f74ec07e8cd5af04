import { Collection, MongoNetworkError } from 'mongodb';
import { Types } from 'mongoose';
import type { Response } from 'supertest';
import { SessionEventsService } from '../../src/session-events/session-events.service';
import { SessionExpiryPass } from '../../src/sessions/session-expiry-pass.service';
import { SessionsService } from '../../src/sessions/sessions.service';
import { newCredentialStamp } from '../../src/users/authenticated-user';
import { ACCOUNT_ROLES_LEASE_MS, ACCOUNT_ROLES_WAIT_MS } from '../../src/users/account-roles.lock';
import { UsersService } from '../../src/users/users.service';
import { Agent, csrfToken, newAgent, signIn, sleep } from '../helpers/agents';
import { formCsrfToken } from '../helpers/forms';
import { enrolTotpAt } from '../helpers/second-factors';
import { SECOND_FACTORS_COLLECTION } from '../../src/second-factors/second-factor.constants';
import { metricValue } from '../helpers/metrics';
import { holdNextCall } from '../helpers/steps';
import { connectionOf, useTestApp } from '../helpers/test-app';
import { createUser, TestUser } from '../helpers/users';

/** Rounds of two admins taking each other away at once; each round is one chance for the race. */
const RACE_ROUNDS = 6;
/** How long a change is held inside the lock while others try to get in. */
const HELD_MS = 1_000;
/** A crashed holder's lease with this long left; a change must wait it out. */
const LEASE_LEFT_MS = 1_500;
/** Clock granularity between the test's and the app's Date.now(). */
const CLOCK_SLACK_MS = 50;
/** An address a client claims through X-Forwarded-For without a trusted proxy in front. */
const SPOOFED_IP = '203.0.113.9';

describe('admin changes: every field absent or of its type, and always an active admin', () => {
  let admin: TestUser;
  let adminAgent: Agent;

  const ctx = useTestApp({ db: 'admin_changes' });
  beforeAll(async () => {
    admin = await createUser(ctx.app, { role: 'admin', name: 'First Admin' });
    adminAgent = await signIn(ctx.app, admin);
  });

  const users = () => connectionOf(ctx.app).collection('users');
  const locks = () => connectionOf(ctx.app).collection<{ _id: string; holder: string; until: Date }>('locks');
  const stored = (id: string) => users().findOne({ _id: new Types.ObjectId(id) });

  async function patch(agent: Agent, id: string, body: unknown, headers: Record<string, string> = {}) {
    const token = await csrfToken(agent);
    return agent
      .patch(`/api/admin/users/${id}`)
      .set({ ...headers, 'X-CSRF-Token': token })
      .send(body as object);
  }

  async function activeAdmins(): Promise<number> {
    const all = await users().find({}).toArray();
    return all.filter((user) => user.role === 'admin' && user.disabled !== true).length;
  }

  /** Submits a form of the admin console as the page would (its own CSRF field). */
  async function submitForm(agent: Agent, page: string, action: string, fields: Record<string, string> = {}) {
    const html = (await agent.get(page).expect(200)).text;
    return agent
      .post(action)
      .type('form')
      .send({ ...fields, _csrf: formCsrfToken(html) });
  }

  describe('null is not "absent"', () => {
    it.each(['role', 'disabled', 'name'])(
      'PATCH {"%s": null} on one’s own account is 400 VAL_2001 naming the field, nothing stored',
      async (field) => {
        const before = await stored(admin.id);
        const response = await patch(adminAgent, admin.id, { [field]: null });
        expect(response.status).toBe(400);
        expect(response.body.error).toMatchObject({ code: 'VAL_2001', details: { fields: { [field]: expect.any(String) } } });
        expect(await stored(admin.id)).toEqual(before);
        await adminAgent.get('/api/admin/users').expect(200);
      },
    );

    it('refuses null for another user’s fields too, and in creation', async () => {
      const user = await createUser(ctx.app);
      const before = await stored(user.id);
      for (const field of ['role', 'disabled', 'name']) {
        const response = await patch(adminAgent, user.id, { [field]: null });
        expect(response.status).toBe(400);
        expect(response.body.error.details.fields).toHaveProperty(field);
      }
      expect(await stored(user.id)).toEqual(before);

      for (const field of ['name', 'role']) {
        const token = await csrfToken(adminAgent);
        const created = await adminAgent
          .post('/api/admin/users')
          .set('X-CSRF-Token', token)
          .send({ email: `null-${field}@example.test`, password: 'a good long passphrase', [field]: null });
        expect(created.status).toBe(400);
        expect(created.body.error).toMatchObject({ code: 'VAL_2001', details: { fields: { [field]: expect.any(String) } } });
      }
      expect(await users().countDocuments({ email: /^null-/ })).toBe(0);
    });

    it('refuses null in sign-in forms sent as JSON (LoginFormDto), which were optional', async () => {
      const agent = newAgent(ctx.app);
      const form = (await agent.get('/login').expect(200)).text;
      const response = await agent
        .post('/login')
        .set('X-CSRF-Token', formCsrfToken(form))
        .send({ email: null, password: null, next: null });
      expect(response.status).toBe(400);
      expect(response.text).toContain('VAL_2001');
    });

    it('still takes an absent field as "no change"', async () => {
      const user = await createUser(ctx.app, { name: 'Kept' });
      const response = await patch(adminAgent, user.id, { name: 'Renamed' });
      expect(response.status).toBe(200);
      expect(response.body.user).toMatchObject({ name: 'Renamed', role: 'user', disabled: false });
    });
  });

  describe('no admin disables or demotes itself', () => {
    it.each([
      ['disabled: true', { disabled: true }],
      ['role: user', { role: 'user' }],
      ['both at once', { disabled: true, role: 'user' }],
      ['role: user with a rename', { role: 'user', name: 'x' }],
    ])('PATCH own account with %s is 400 VAL_2001 and changes nothing', async (_name, body) => {
      const before = await stored(admin.id);
      const response = await patch(adminAgent, admin.id, body);
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('VAL_2001');
      expect(await stored(admin.id)).toEqual(before);
      await adminAgent.get('/api/admin/users').expect(200);
    });

    it('the console’s own forms cannot do it either: a 400 page with VAL_2001', async () => {
      const page = `/admin/users/${admin.id}`;
      const before = await stored(admin.id);
      for (const [action, fields] of [
        [`${page}/disable`, {}],
        [`${page}/role`, { role: 'user' }],
      ] as const) {
        const response = await submitForm(adminAgent, page, action, fields);
        expect(response.status).toBe(400);
        expect(response.text).toContain('VAL_2001');
      }
      expect(await stored(admin.id)).toEqual(before);
      await adminAgent.get(page).expect(200);
    });
  });

  describe('the last active admin', () => {
    /** Leaves `keep` as the only active admins (test set-up, straight in the database). */
    async function onlyActiveAdmins(keep: TestUser[]): Promise<void> {
      const emails = keep.map((user) => user.email);
      await users().updateMany({ role: 'admin', email: { $nin: emails } }, { $set: { role: 'user' } });
    }
    // The first admin acts in later tests: an admin again, and no lease left by a test that failed.
    afterEach(async () => {
      jest.restoreAllMocks();
      await users().updateOne({ email: admin.email }, { $set: { role: 'admin' } });
      await locks().deleteMany({});
    });

    /** Two new admins, the only active ones, each signed in. */
    async function twoSignedInAdmins(): Promise<[TestUser, TestUser, Agent, Agent]> {
      const [x, y] = [await createUser(ctx.app, { role: 'admin' }), await createUser(ctx.app, { role: 'admin' })];
      await onlyActiveAdmins([x, y]);
      return [x, y, await signIn(ctx.app, x), await signIn(ctx.app, y)];
    }

    /** `agent` changes `target`, held inside the lock after its checks, before its write. */
    async function heldChange(agent: Agent, target: TestUser, change: object) {
      const held = holdNextCall(ctx.app.get(UsersService), 'update');
      const answer = patch(agent, target.id, change);
      await held.arrived;
      return { release: held.release, answer };
    }

    /**
     * What admin x sends (`request`, with a CSRF token) while y's disabling
     * of x is held inside the lock; its answer, once that disable stood.
     */
    async function sentWhileBeingDisabled(request: (agent: Agent, token: string) => PromiseLike<Response>) {
      const [x, , agentX, agentY] = await twoSignedInAdmins();
      const disablingX = await heldChange(agentY, x, { disabled: true });
      // then() sends it now, to wait inside the lock.
      const sending = request(agentX, await csrfToken(agentX)).then((response) => response);
      await sleep(HELD_MS);
      disablingX.release();
      expect((await disablingX.answer).status).toBe(200);
      return sending;
    }

    it(`two admins taking each other away in parallel never leave zero active admins (${RACE_ROUNDS} rounds): 409 RES_3002`, async () => {
      const kinds = [
        [{ role: 'user' }, { role: 'user' }],
        [{ disabled: true }, { disabled: true }],
        [{ role: 'user' }, { disabled: true }],
      ];
      const refusals: string[] = [];
      for (let round = 0; round < RACE_ROUNDS; round++) {
        const [a, b, agentA, agentB] = await twoSignedInAdmins();
        const [tokenA, tokenB] = [await csrfToken(agentA), await csrfToken(agentB)];
        const [changeOfB, changeOfA] = kinds[round % kinds.length];
        const responses = await Promise.all([
          agentA.patch(`/api/admin/users/${b.id}`).set('X-CSRF-Token', tokenA).send(changeOfB),
          agentB.patch(`/api/admin/users/${a.id}`).set('X-CSRF-Token', tokenB).send(changeOfA),
        ]);

        expect(await activeAdmins()).toBeGreaterThanOrEqual(1);
        for (const response of responses) {
          // 401: the other change ended this admin's session before its request got through.
          expect([200, 401, 409]).toContain(response.status);
          if (response.status === 409) {
            refusals.push(response.body.error.code);
            expect(response.body.error.message).toMatch(/no active administrator/);
          }
        }
        expect(responses.filter((response) => response.status === 200).length).toBeLessThanOrEqual(1);
        // Whoever is still an active admin can work, and the account changes agree with the answers.
        for (const [response, target] of [
          [responses[0], b],
          [responses[1], a],
        ] as const) {
          const now = await stored(target.id);
          const active = now?.role === 'admin' && now?.disabled !== true;
          expect(active).toBe(response.status !== 200);
        }
      }
      expect(refusals.every((code) => code === 'RES_3002')).toBe(true);
    });

    it('runs role changes one at a time: one held inside keeps the others waiting, and they see what it wrote', async () => {
      const [x, y, agentX, agentY] = await twoSignedInAdmins();
      // X demotes Y and is held after its checks, before its write.
      const demotionOfY = await heldChange(agentX, y, { role: 'user' });
      // Meanwhile Y demotes X and X disables Y: without one-at-a-time, Y's demotion of X passed its check and landed here.
      const demotingX = patch(agentY, x.id, { role: 'user' });
      const disablingY = patch(agentX, y.id, { disabled: true });
      await Promise.race([demotingX, sleep(HELD_MS)]);
      expect(await stored(x.id)).toMatchObject({ role: 'admin', disabled: false });
      demotionOfY.release();

      const [ofY, ofX, disabled] = await Promise.all([demotionOfY.answer, demotingX, disablingY]);
      // Y, no longer an admin, is turned back (its sessions ended with the demotion); disabling the user Y is then fine.
      expect([ofY.status, ofX.status, ofX.body.error?.code, disabled.status]).toEqual([200, 401, 'AUTH_1003', 200]);
      expect(await stored(x.id)).toMatchObject({ role: 'admin', disabled: false });
      expect(await stored(y.id)).toMatchObject({ role: 'user', disabled: true });
      expect(await activeAdmins()).toBe(1);
    });

    it(`three changes of two admins at once, both taking each other away (${RACE_ROUNDS} rounds), leave one active admin and answers that agree`, async () => {
      for (let round = 0; round < RACE_ROUNDS; round++) {
        const [x, y, agentX, agentY] = await twoSignedInAdmins();
        const [demotingY, disablingY, demotingX] = await Promise.all([
          patch(agentX, y.id, { role: 'user' }),
          patch(agentX, y.id, { disabled: true }),
          patch(agentY, x.id, round % 2 === 0 ? { role: 'user' } : { disabled: true }),
        ]);
        expect(await activeAdmins()).toBe(1);
        for (const response of [demotingY, disablingY, demotingX]) expect([200, 401, 409]).toContain(response.status);
        const [nowX, nowY] = [await stored(x.id), await stored(y.id)];
        expect(nowY?.role === 'user').toBe(demotingY.status === 200);
        expect(nowY?.disabled === true).toBe(disablingY.status === 200);
        expect(nowX?.role !== 'admin' || nowX?.disabled === true).toBe(demotingX.status === 200);
      }
    });

    it('a change whose holder crashed waits for its lease to end; one waiting longer than it may is 503 SYS_9002 and writes nothing', async () => {
      const user = await createUser(ctx.app);
      const leftBy = (ms: number) => locks().insertOne({ _id: 'account-roles', holder: 'crashed', until: new Date(Date.now() + ms) });

      await leftBy(LEASE_LEFT_MS);
      const started = Date.now();
      expect((await patch(adminAgent, user.id, { disabled: true })).status).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(LEASE_LEFT_MS - CLOCK_SLACK_MS);
      expect(await locks().countDocuments()).toBe(0);

      await leftBy(ACCOUNT_ROLES_LEASE_MS);
      const refused = await patch(adminAgent, user.id, { disabled: false });
      expect([refused.status, refused.body.error?.code]).toEqual([503, 'SYS_9002']);
      expect(await stored(user.id)).toMatchObject({ disabled: true });
      // Renaming is no role change: it does not wait.
      expect((await patch(adminAgent, user.id, { name: 'Renamed' })).status).toBe(200);
    });

    it('a change that fails half-way (the database drops between its checks and its write) lets the next one in at once', async () => {
      const user = await createUser(ctx.app);
      jest.spyOn(ctx.app.get(SessionsService), 'credentialsChanging').mockRejectedValueOnce(new MongoNetworkError('injected'));
      const failed = await patch(adminAgent, user.id, { disabled: true });
      expect([failed.status, failed.body.error?.code]).toEqual([503, 'SYS_9002']);
      expect(await stored(user.id)).toMatchObject({ disabled: false });
      expect(await locks().countDocuments()).toBe(0);
      expect((await patch(adminAgent, user.id, { disabled: true })).status).toBe(200);
    });

    it('a change whose lease ran out while it was held (a step slower than the lease) writes nothing: 503, one active admin', async () => {
      const [x, y, agentX, agentY] = await twoSignedInAdmins();
      const demotionOfY = await heldChange(agentX, y, { role: 'user' });
      // The lease runs out (as it would 30 s on): Y's demotion of X gets in and is written.
      await locks().updateOne({ _id: 'account-roles' }, { $set: { until: new Date(Date.now() - 1) } });
      expect((await patch(agentY, x.id, { role: 'user' })).status).toBe(200);
      demotionOfY.release();

      const ofY = await demotionOfY.answer;
      expect([ofY.status, ofY.body.error?.code]).toEqual([503, 'SYS_9002']);
      expect(await stored(y.id)).toMatchObject({ role: 'admin', disabled: false });
      expect(await activeAdmins()).toBe(1);
    });

    it('an admin disabled while their creation of an admin waited is turned back (401) and creates nothing', async () => {
      const email = `made-by-x-${new Types.ObjectId().toHexString()}@example.test`;
      const created = await sentWhileBeingDisabled((agentX, token) =>
        agentX.post('/api/admin/users').set('X-CSRF-Token', token).send({ email, password: 'a good long passphrase', role: 'admin' }),
      );
      expect([created.status, created.body.error?.code]).toEqual([401, 'AUTH_1003']);
      expect(await users().findOne({ email })).toBeNull();
    });

    it('an admin disabled while their reset of another user’s factors waited is turned back (401) and removes nothing', async () => {
      const user = await createUser(ctx.app);
      await enrolTotpAt(ctx.app, user, Date.now());
      const reset = await sentWhileBeingDisabled((agentX, token) =>
        agentX.delete(`/api/admin/users/${user.id}/factors`).set('X-CSRF-Token', token),
      );
      expect([reset.status, reset.body.error?.code]).toEqual([401, 'AUTH_1003']);
      expect(await connectionOf(ctx.app).collection(SECOND_FACTORS_COLLECTION).countDocuments({ userId: user.id })).toBe(1);
    });

    it('a change whose release fails too (the database still down) lets the next one in once the database is back, not after the lease', async () => {
      const user = await createUser(ctx.app);
      const deleteOne = Collection.prototype.deleteOne;
      let failed = false;
      jest.spyOn(Collection.prototype, 'deleteOne').mockImplementation(function (
        this: Collection,
        ...args: Parameters<Collection['deleteOne']>
      ) {
        if (this.collectionName === 'locks' && !failed) {
          failed = true;
          return Promise.reject(new MongoNetworkError('injected'));
        }
        return deleteOne.apply(this, args);
      } as never);
      jest.spyOn(ctx.app.get(SessionsService), 'credentialsChanging').mockRejectedValueOnce(new MongoNetworkError('injected'));
      expect((await patch(adminAgent, user.id, { disabled: true })).status).toBe(503);
      expect(failed).toBe(true);

      const started = Date.now();
      expect((await patch(adminAgent, user.id, { disabled: true })).status).toBe(200);
      expect(Date.now() - started).toBeLessThan(ACCOUNT_ROLES_WAIT_MS);
    });

    it('the console’s disable forms racing each other keep an active admin too (a 409 page with RES_3002)', async () => {
      const [a, b, agentA, agentB] = await twoSignedInAdmins();
      const [pageA, pageB] = [`/admin/users/${b.id}`, `/admin/users/${a.id}`];
      const [formA, formB] = [(await agentA.get(pageA).expect(200)).text, (await agentB.get(pageB).expect(200)).text];
      const responses = await Promise.all([
        agentA
          .post(`${pageA}/disable`)
          .type('form')
          .send({ _csrf: formCsrfToken(formA) }),
        agentB
          .post(`${pageB}/disable`)
          .type('form')
          .send({ _csrf: formCsrfToken(formB) }),
      ]);
      expect(await activeAdmins()).toBeGreaterThanOrEqual(1);
      for (const response of responses) {
        expect([303, 409]).toContain(response.status);
        if (response.status === 409) expect(response.text).toContain('RES_3002');
      }
    });
  });

  describe('a credential change whose account keeps changing under it', () => {
    afterEach(() => jest.restoreAllMocks());

    it('gives up with 503 SYS_9002 and writes nothing when the stamp moved before each of its tries; a retry then works', async () => {
      const user = await createUser(ctx.app);
      const sessions = ctx.app.get(SessionsService);
      const endStale = sessions.credentialsChanging.bind(sessions);
      // Another credential change lands after each round of ending the sessions, before the write.
      jest.spyOn(sessions, 'credentialsChanging').mockImplementation(async (...args) => {
        await endStale(...args);
        await users().updateOne({ _id: new Types.ObjectId(user.id) }, { $set: { credentialStamp: newCredentialStamp() } });
      });
      const refused = await patch(adminAgent, user.id, { disabled: true });
      expect([refused.status, refused.body.error?.code]).toEqual([503, 'SYS_9002']);
      const untouched = await stored(user.id);
      expect(untouched?.disabled).toBe(false);
      expect(untouched?.staleStamps ?? []).toEqual([]);
      jest.restoreAllMocks();

      expect((await patch(adminAgent, user.id, { disabled: true })).status).toBe(200);
      expect(await stored(user.id)).toMatchObject({ disabled: true });
    });
  });

  describe('the audit trail of a change whose request fails after its write', () => {
    afterEach(() => jest.restoreAllMocks());

    const eventsOf = (userId: string) =>
      connectionOf(ctx.app)
        .collection('session_events')
        .find({ userId, type: { $in: ['user.disabled', 'user.role_changed'] } })
        .sort({ type: 1 })
        .toArray();
    const pendingOf = async (id: string) => (await stored(id))?.pendingEvents ?? [];

    it('a change whose events could not be recorded answers 503 and stands; the next expiry pass records them once, as of the change', async () => {
      const user = await createUser(ctx.app);
      jest.spyOn(ctx.app.get(SessionEventsService), 'accountChanged').mockRejectedValueOnce(new MongoNetworkError('injected'));
      const changedBefore = new Date();
      // Not behind a trusted proxy here: the address recorded is the connection's, never the header's.
      const failed = await patch(adminAgent, user.id, { disabled: true, role: 'admin' }, { 'X-Forwarded-For': SPOOFED_IP });
      expect([failed.status, failed.body.error?.code]).toEqual([503, 'SYS_9002']);
      expect(await stored(user.id)).toMatchObject({ disabled: true, role: 'admin' });
      expect(await eventsOf(user.id)).toEqual([]);
      expect(await pendingOf(user.id)).toHaveLength(2);

      const passStarted = new Date();
      await ctx.app.get(SessionExpiryPass).run();
      const events = await eventsOf(user.id);
      expect(events.map(({ type, reason, actorId }) => ({ type, reason, actorId }))).toEqual([
        { type: 'user.disabled', reason: undefined, actorId: admin.id },
        { type: 'user.role_changed', reason: 'user→admin', actorId: admin.id },
      ]);
      for (const event of events) {
        expect(event).toMatchObject({ correlationId: failed.headers['x-correlation-id'], ip: expect.stringMatching(/\S/) });
        expect(event.ip).not.toContain(SPOOFED_IP);
        expect(event.at.getTime()).toBeGreaterThanOrEqual(changedBefore.getTime() - CLOCK_SLACK_MS);
        expect(event.at.getTime()).toBeLessThan(passStarted.getTime());
      }
      expect(await pendingOf(user.id)).toEqual([]);

      await ctx.app.get(SessionExpiryPass).run();
      expect(await eventsOf(user.id)).toHaveLength(2);
    });

    it('events recorded whose removal from the account failed are not recorded again by the pass', async () => {
      const user = await createUser(ctx.app);
      jest.spyOn(ctx.app.get(UsersService), 'accountEventsRecorded').mockRejectedValueOnce(new MongoNetworkError('injected'));
      const failed = await patch(adminAgent, user.id, { disabled: true });
      expect([failed.status, failed.body.error?.code]).toEqual([503, 'SYS_9002']);
      expect(await eventsOf(user.id)).toHaveLength(1);
      expect(await pendingOf(user.id)).toHaveLength(1);

      await ctx.app.get(SessionExpiryPass).run();
      expect(await eventsOf(user.id)).toHaveLength(1);
      expect(await pendingOf(user.id)).toEqual([]);
    });

    it('an entry edited by hand into something that is not an event does not stop the pass from recording the others', async () => {
      const edited = await createUser(ctx.app);
      await users().updateOne({ _id: new Types.ObjectId(edited.id) }, { $set: { pendingEvents: ['{not json'] } });
      const user = await createUser(ctx.app);
      jest.spyOn(ctx.app.get(SessionEventsService), 'accountChanged').mockRejectedValueOnce(new MongoNetworkError('injected'));
      expect((await patch(adminAgent, user.id, { disabled: true })).status).toBe(503);

      await ctx.app.get(SessionExpiryPass).run();
      expect(await eventsOf(user.id)).toHaveLength(1);
      expect(await pendingOf(user.id)).toEqual([]);
    });

    it('a burst over pending events (two passes and another change of the account at once) records and counts each once', async () => {
      const user = await createUser(ctx.app);
      jest.spyOn(ctx.app.get(SessionEventsService), 'accountChanged').mockRejectedValueOnce(new MongoNetworkError('injected'));
      expect((await patch(adminAgent, user.id, { disabled: true })).status).toBe(503);
      const countedBefore = await metricValue(ctx.app, 'session_events_total', { type: 'user.disabled' });

      const sessions = ctx.app.get(SessionsService);
      const [, , roleChange] = await Promise.all([
        sessions.finishUnfinishedChanges(),
        sessions.finishUnfinishedChanges(),
        patch(adminAgent, user.id, { role: 'admin' }),
      ]);
      expect(roleChange.status).toBe(200);
      expect((await eventsOf(user.id)).map(({ type }) => type)).toEqual(['user.disabled', 'user.role_changed']);
      expect(await metricValue(ctx.app, 'session_events_total', { type: 'user.disabled' })).toBe(countedBefore + 1);
      expect(await pendingOf(user.id)).toEqual([]);
    });

    it('a change that answers 200 leaves nothing pending', async () => {
      const user = await createUser(ctx.app);
      expect((await patch(adminAgent, user.id, { disabled: true })).status).toBe(200);
      expect(await eventsOf(user.id)).toHaveLength(1);
      expect(await pendingOf(user.id)).toEqual([]);
    });
  });
});
