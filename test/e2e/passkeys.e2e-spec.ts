import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { readFileSync } from 'node:fs';
import { Agent, deleteJson, newAgent, postJson, sentCookie, setCookie, signIn, sleep } from '../helpers/agents';
import { provePasskey, registerPasskey } from '../helpers/passkeys';
import { SoftwareAuthenticator } from '../helpers/software-authenticator';
import { ExpirySweeper } from '../../src/database/expiry-sweeper.service';
import { connectionOf, createTestApp, useTestApp } from '../helpers/test-app';
import { createUser, TestUser } from '../helpers/users';

const ORIGIN = 'https://sessions.example.test';
const AN_HOUR_MS = 3_600_000;
const REAUTH_MS = 3_000;
let nextIp = 1;

const events = (app: NestExpressApplication, filter: Record<string, unknown>) =>
  connectionOf(app).collection('session_events').find(filter).sort({ at: 1 }).toArray();

describe('passkeys', () => {
  const ENV = { PUBLIC_URL: ORIGIN, TRUST_PROXY: '1', REAUTH_MINUTES: String(REAUTH_MS / 60_000), MFA_REQUIRED_ROLES: 'admin' };
  const ctx = useTestApp({ db: 'passkeys', env: ENV });

  /** An agent of its own client address, so one test's failures never reach another's IP counter. */
  const freshAgent = () => newAgent(ctx.app).set('X-Forwarded-For', `198.51.100.${nextIp++}`);
  const signedIn = (user: TestUser, agent: Agent = freshAgent()) => signIn(ctx.app, user, agent);
  const authenticator = (options: { userVerified?: boolean } = {}) => new SoftwareAuthenticator({ origin: ORIGIN, ...options });

  describe('the browser library', () => {
    it('is served from the installed @simplewebauthn/browser, cached like the other static files and loading no session', async () => {
      const installed = readFileSync(
        require.resolve('@simplewebauthn/browser').replace(/script[/\\]index\.js$/, 'dist/bundle/index.umd.min.js'),
        'utf8',
      );
      const response = await request(ctx.app.getHttpServer()).get('/js/vendor/simplewebauthn-browser.js').expect(200);
      expect(response.headers['content-type']).toMatch(/^text\/javascript/);
      expect(response.headers['cache-control']).toBe('public, max-age=3600');
      expect(response.headers['set-cookie']).toBeUndefined();
      expect(response.text).toBe(installed);
      expect(response.text).toContain('SimpleWebAuthnBrowser');
    });

    it('is the only file served from a package: nothing else of node_modules is reachable', async () => {
      await request(ctx.app.getHttpServer()).get('/js/vendor/index.umd.min.js').expect(404);
      await request(ctx.app.getHttpServer()).get('/js/vendor/../../node_modules/@simplewebauthn/browser/package.json').expect(404);
    });
  });

  describe('registering', () => {
    it('registers a named passkey: listed, proven in this session, other sessions ended, recorded, with recovery codes for a first factor', async () => {
      const user = await createUser(ctx.app);
      const other = await signedIn(user);
      const agent = await signedIn(user);
      const options = (await postJson(agent, '/api/auth/factors/passkey/options')).body;
      expect(options).toMatchObject({
        rp: { id: 'sessions.example.test' },
        user: { name: user.email },
        authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
        attestation: 'none',
      });
      const before = await agent.get('/api/auth/me').expect(200);
      const registered = await postJson(agent, '/api/auth/factors/passkey', {
        name: 'Work laptop',
        response: authenticator().register(options),
      });
      expect(registered.status).toBe(201);
      expect(registered.body).toEqual({
        factor: expect.objectContaining({ id: expect.any(String), type: 'passkey', name: 'Work laptop' }),
        recoveryCodes: expect.arrayContaining([expect.stringMatching(/^[a-z2-9]{5}-[a-z2-9]{5}$/)]),
      });
      expect(registered.body.recoveryCodes).toHaveLength(10);
      const rotated = setCookie(registered.headers, 'session_token');
      expect(rotated).toBeDefined();
      expect(rotated).not.toContain(sentCookie(before, 'session_token'));

      const me = (await agent.get('/api/auth/me').expect(200)).body;
      expect(me.session.amr.map((entry: { method: string }) => entry.method)).toEqual(['pwd', 'passkey']);
      expect((await agent.get('/api/auth/factors').expect(200)).body).toEqual({
        items: [expect.objectContaining({ type: 'passkey', name: 'Work laptop' })],
        recoveryCodesLeft: 10,
      });
      expect((await other.get('/api/auth/me')).status).toBe(401);
      expect(await events(ctx.app, { userId: user.id, type: 'mfa.enrolled' })).toEqual([expect.objectContaining({ method: 'passkey' })]);
    });

    it('registers a second passkey without new recovery codes, and removes one through the factor routes', async () => {
      const user = await createUser(ctx.app);
      const agent = await signedIn(user);
      const first = await registerPasskey(agent, authenticator(), 'Laptop');
      const second = await registerPasskey(agent, authenticator(), 'Phone');
      expect(second.recoveryCodes).toEqual([]);
      const removed = await deleteJson(agent, `/api/auth/factors/${first.factor.id}`);
      expect(removed.status).toBe(204);
      expect((await agent.get('/api/auth/factors').expect(200)).body.items).toEqual([expect.objectContaining({ name: 'Phone' })]);
      expect(await events(ctx.app, { userId: user.id, type: 'mfa.removed' })).toEqual([expect.objectContaining({ method: 'passkey' })]);
    });

    it('lets an account whose role must use a factor enrol a passkey from its pending sign-in, which then completes', async () => {
      const admin = await createUser(ctx.app, { role: 'admin' });
      const agent = freshAgent();
      const password = await postJson(agent, '/api/auth/login', { email: admin.email, password: admin.password });
      expect(password.body).toEqual({ secondFactor: { methods: [], enrol: true } });
      expect((await agent.get('/api/auth/me')).body.error.code).toBe('AUTH_1012');
      const { factor, recoveryCodes } = await registerPasskey(agent, authenticator(), 'Admin laptop');
      expect(factor.type).toBe('passkey');
      expect(recoveryCodes).toHaveLength(10);
      expect(methodsOf((await agent.get('/api/auth/me').expect(200)).body.session.amr)).toEqual(['pwd', 'passkey']);
    });

    it('keeps the last factor of a role that requires one through a burst of removals', async () => {
      const admin = await createUser(ctx.app, { role: 'admin' });
      const agent = freshAgent();
      await postJson(agent, '/api/auth/login', { email: admin.email, password: admin.password });
      const { factor } = await registerPasskey(agent, authenticator(), 'Laptop');
      const removals = await Promise.all(Array.from({ length: 5 }, () => deleteJson(agent, `/api/auth/factors/${factor.id}`)));
      expect(removals.map((removal) => removal.status)).toEqual(Array(5).fill(400));
      expect(await connectionOf(ctx.app).collection('second_factors').countDocuments({ userId: admin.id })).toBe(1);
      const again = await postJson(freshAgent(), '/api/auth/login', { email: admin.email, password: admin.password });
      expect(again.body.secondFactor.methods).toContain('passkey');
    });

    it('needs a session and recent authentication', async () => {
      const anonymous = freshAgent();
      const noSession = await postJson(anonymous, '/api/auth/factors/passkey/options');
      expect(noSession.status).toBe(401);
      expect(noSession.body.error.code).toBe('AUTH_1004');

      const user = await createUser(ctx.app);
      const agent = await signedIn(user);
      const options = (await postJson(agent, '/api/auth/factors/passkey/options')).body;
      await sleep(REAUTH_MS + 200);
      const stale = await postJson(agent, '/api/auth/factors/passkey', { name: 'Late', response: authenticator().register(options) });
      expect(stale.status).toBe(403);
      expect(stale.body.error).toMatchObject({ code: 'AUTH_1009', details: { reauthUrl: '/reauth' } });
    });

    it('refuses an answer to a challenge it did not issue, or issued to someone else, or used already: 401 AUTH_1013, recorded', async () => {
      const owner = await signedIn(await createUser(ctx.app));
      const user = await createUser(ctx.app);
      const agent = await signedIn(user);
      const key = authenticator();

      const made = key.register({ ...(await postJson(agent, '/api/auth/factors/passkey/options')).body, challenge: 'bm90LWlzc3VlZA' });
      const invented = await postJson(agent, '/api/auth/factors/passkey', { name: 'Invented', response: made });
      expect(invented.status).toBe(401);
      expect(invented.body.error.code).toBe('AUTH_1013');

      const ownersChallenge = (await postJson(owner, '/api/auth/factors/passkey/options')).body;
      const stolen = await postJson(agent, '/api/auth/factors/passkey', { name: 'Stolen', response: key.register(ownersChallenge) });
      expect(stolen.body.error.code).toBe('AUTH_1013');

      const options = (await postJson(agent, '/api/auth/factors/passkey/options')).body;
      const answer = key.register(options);
      expect((await postJson(agent, '/api/auth/factors/passkey', { name: 'Once', response: answer })).status).toBe(201);
      const twice = await postJson(agent, '/api/auth/factors/passkey', { name: 'Twice', response: answer });
      expect(twice.status).toBe(401);
      expect(twice.body.error.code).toBe('AUTH_1013');
      expect(await events(ctx.app, { userId: user.id, type: 'mfa.failed' })).toHaveLength(3);
    });

    it.each([
      ['no response', { name: 'x' }, 'response'],
      ['no name', { response: {} }, 'name'],
      ['a response that is a string', { name: 'x', response: 'abc' }, 'response'],
      [
        'a response of the wrong type',
        { name: 'x', response: { id: 'a', rawId: 'a', type: 'password', response: {}, clientExtensionResults: {} } },
        'response',
      ],
      [
        'an attestation that is not base64url',
        {
          name: 'x',
          response: {
            id: 'a',
            rawId: 'a',
            type: 'public-key',
            response: { clientDataJSON: 'a b', attestationObject: '$' },
            clientExtensionResults: {},
          },
        },
        'response',
      ],
      ['an operator for a name', { name: { $gt: '' }, response: {} }, 'name'],
      ['a name too long', { name: 'n'.repeat(65), response: {} }, 'name'],
    ])('refuses %s with 400 VAL_2001 naming the field', async (_case, body, field) => {
      const agent = await signedIn(await createUser(ctx.app));
      const response = await postJson(agent, '/api/auth/factors/passkey', body);
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('VAL_2001');
      expect(Object.keys(response.body.error.details.fields)).toContain(field);
    });

    it('refuses oversized input: a field past its limit is 400, a body past the limit 413', async () => {
      const agent = await signedIn(await createUser(ctx.app));
      const options = (await postJson(agent, '/api/auth/factors/passkey/options')).body;
      const answer = authenticator().register(options);
      const long = { ...answer, response: { ...answer.response, attestationObject: 'A'.repeat(20_000) } };
      expect((await postJson(agent, '/api/auth/factors/passkey', { name: 'Long', response: long })).status).toBe(400);
      const huge = { ...answer, response: { ...answer.response, attestationObject: 'A'.repeat(200_000) } };
      const tooLarge = await postJson(agent, '/api/auth/factors/passkey', { name: 'Huge', response: huge });
      expect(tooLarge.status).toBe(413);
      expect(tooLarge.body.error.code).toBe('VAL_2002');
    });
  });

  /** A user with a passkey registered through the API, signed out again; its authenticator. */
  async function withPasskey(options: { userVerified?: boolean } = {}) {
    const user = await createUser(ctx.app);
    const agent = await signedIn(user);
    const key = authenticator(options);
    const { factor } = await registerPasskey(agent, key);
    await postJson(agent, '/api/auth/logout');
    return { user, key, factorId: factor.id };
  }

  const methodsOf = (amr: { method: string }[]) => amr.map((entry) => entry.method);

  describe('signing in with a passkey alone', () => {
    it('signs in with no email typed when the authenticator verified the person: amr passkey, recorded', async () => {
      const { user, key } = await withPasskey();
      const agent = freshAgent();
      const options = (await postJson(agent, '/api/auth/passkey/options')).body;
      expect(options).toMatchObject({ rpId: 'sessions.example.test', userVerification: 'preferred', allowCredentials: [] });
      const signedInNow = await postJson(agent, '/api/auth/passkey', { response: key.authenticate(options) });
      expect(signedInNow.status).toBe(200);
      expect(signedInNow.body.user).toMatchObject({ id: user.id, email: user.email });
      const me = (await agent.get('/api/auth/me').expect(200)).body;
      expect(me.session.amr).toEqual([{ method: 'passkey', at: expect.any(String) }]);
      expect(await events(ctx.app, { userId: user.id, type: 'mfa.succeeded' })).toEqual([expect.objectContaining({ method: 'passkey' })]);
      expect(await events(ctx.app, { userId: user.id, type: 'login.succeeded' })).toHaveLength(2);
    });

    it('gives no session to a passkey that did not verify the person: 401 AUTH_1013 user_not_verified, recorded', async () => {
      const { user, key } = await withPasskey({ userVerified: false });
      const agent = freshAgent();
      const refused = await provePasskey(agent, key, '/api/auth/passkey/options', '/api/auth/passkey');
      expect(refused.status).toBe(401);
      expect(refused.body.error).toMatchObject({ code: 'AUTH_1013', details: { reason: 'user_not_verified' } });
      expect(setCookie(refused.headers, 'session_token')).toBeUndefined();
      expect((await agent.get('/api/auth/me')).status).toBe(401);
      expect(await events(ctx.app, { userId: user.id, type: 'mfa.failed' })).toEqual([
        expect.objectContaining({ method: 'passkey', reason: 'user_not_verified' }),
      ]);
    });

    it('refuses a replayed answer, an answer to another ceremony’s challenge and an unknown passkey: 401 AUTH_1013', async () => {
      const { user, key } = await withPasskey();
      const agent = freshAgent();
      const options = (await postJson(agent, '/api/auth/passkey/options')).body;
      const answer = key.authenticate(options);
      expect((await postJson(agent, '/api/auth/passkey', { response: answer })).status).toBe(200);
      const replayed = await postJson(freshAgent(), '/api/auth/passkey', { response: answer });
      expect(replayed.status).toBe(401);
      expect(replayed.body.error.code).toBe('AUTH_1013');

      const registration = (await postJson(await signedIn(user), '/api/auth/factors/passkey/options')).body;
      const crossed = await postJson(freshAgent(), '/api/auth/passkey', {
        response: key.authenticate({ challenge: registration.challenge }),
      });
      expect(crossed.body.error.code).toBe('AUTH_1013');

      const stranger = await provePasskey(freshAgent(), authenticator(), '/api/auth/passkey/options', '/api/auth/passkey');
      expect(stranger.status).toBe(401);
      expect(stranger.body.error.code).toBe('AUTH_1013');
    });

    it('refuses a disabled account’s passkey with AUTH_1007', async () => {
      const { user, key } = await withPasskey();
      await connectionOf(ctx.app)
        .collection('users')
        .updateOne({ email: user.email }, { $set: { disabled: true } });
      const refused = await provePasskey(freshAgent(), key, '/api/auth/passkey/options', '/api/auth/passkey');
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('AUTH_1007');
    });

    it.each([
      ['an empty body', {}],
      [
        'a response without its signature',
        {
          response: {
            id: 'YQ',
            rawId: 'YQ',
            type: 'public-key',
            response: { clientDataJSON: 'YQ', authenticatorData: 'YQ' },
            clientExtensionResults: {},
          },
        },
      ],
      [
        'a response with an unknown field',
        {
          response: {
            id: 'YQ',
            rawId: 'YQ',
            type: 'public-key',
            response: { clientDataJSON: 'YQ', authenticatorData: 'YQ', signature: 'YQ' },
            clientExtensionResults: {},
            extra: 1,
          },
        },
      ],
      ['an array', { response: [] }],
    ])('refuses %s with 400 VAL_2001', async (_case, body) => {
      const response = await postJson(freshAgent(), '/api/auth/passkey', body);
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('VAL_2001');
    });

    it('refuses client data that is not JSON, or names no challenge, as an invalid answer: 401 AUTH_1013', async () => {
      const { key } = await withPasskey();
      const answer = key.authenticate((await postJson(freshAgent(), '/api/auth/passkey/options')).body);
      for (const clientDataJSON of [
        Buffer.from('not json').toString('base64url'),
        Buffer.from('{"type":"webauthn.get"}').toString('base64url'),
      ]) {
        const response = await postJson(freshAgent(), '/api/auth/passkey', {
          response: { ...answer, response: { ...answer.response, clientDataJSON } },
        });
        expect(response.status).toBe(401);
        expect(response.body.error.code).toBe('AUTH_1013');
      }
    });
  });

  describe('a passkey as the second step', () => {
    it('completes a password sign-in from the pending session: amr pwd and passkey, under a new session id', async () => {
      const { user, key } = await withPasskey({ userVerified: false });
      const agent = freshAgent();
      const password = await postJson(agent, '/api/auth/login', { email: user.email, password: user.password });
      expect(password.body).toEqual({ secondFactor: { methods: ['passkey', 'recovery'] } });
      const options = (await postJson(agent, '/api/auth/login/passkey/options')).body;
      expect(options.allowCredentials).toEqual([expect.objectContaining({ id: key.credentialId })]);
      const completed = await postJson(agent, '/api/auth/login/passkey', { response: key.authenticate(options) });
      expect(completed.status).toBe(200);
      expect(completed.body.user).toMatchObject({ id: user.id });
      expect(setCookie(completed.headers, 'session_token')).not.toContain(setCookie(password.headers, 'session_token'));
      expect(methodsOf((await agent.get('/api/auth/me').expect(200)).body.session.amr)).toEqual(['pwd', 'passkey']);
    });

    it('refuses another account’s passkey at the second step: 401 AUTH_1013, recorded, still pending', async () => {
      const owner = await withPasskey();
      const { user } = await withPasskey();
      const agent = freshAgent();
      await postJson(agent, '/api/auth/login', { email: user.email, password: user.password });
      const refused = await provePasskey(agent, owner.key, '/api/auth/login/passkey/options', '/api/auth/login/passkey');
      expect(refused.status).toBe(401);
      expect(refused.body.error.code).toBe('AUTH_1013');
      expect(await events(ctx.app, { userId: user.id, type: 'mfa.failed' })).toEqual([expect.objectContaining({ method: 'passkey' })]);
      expect((await agent.get('/api/auth/me')).body.error.code).toBe('AUTH_1012');
    });

    it('needs the pending session: no session is AUTH_1004, a signed-in session gets no options', async () => {
      const noSession = await postJson(freshAgent(), '/api/auth/login/passkey/options');
      expect(noSession.status).toBe(401);
      expect(noSession.body.error.code).toBe('AUTH_1004');
      const signedInAgent = await signedIn(await createUser(ctx.app));
      const signedInAlready = await postJson(signedInAgent, '/api/auth/login/passkey/options');
      expect(signedInAlready.status).toBe(401);
      expect(signedInAlready.body.error.code).toBe('AUTH_1004');
    });
  });

  describe('stepping up with a passkey', () => {
    it('re-authenticates with a passkey for a factor change once the proof is old: amr passkey renewed, recorded', async () => {
      const { user, key, factorId } = await withPasskey({ userVerified: false });
      const agent = freshAgent();
      await postJson(agent, '/api/auth/login', { email: user.email, password: user.password });
      await provePasskey(agent, key, '/api/auth/login/passkey/options', '/api/auth/login/passkey');
      await sleep(REAUTH_MS + 200);
      const stale = await deleteJson(agent, `/api/auth/factors/${factorId}`);
      expect(stale.status).toBe(403);
      expect(stale.body.error).toMatchObject({ code: 'AUTH_1009', details: { reauthUrl: '/reauth' } });

      const before = Date.now();
      const options = (await postJson(agent, '/api/auth/reauth/passkey/options')).body;
      expect(options.allowCredentials).toEqual([expect.objectContaining({ id: key.credentialId })]);
      expect((await postJson(agent, '/api/auth/reauth', { passkey: key.authenticate(options) })).status).toBe(204);
      const { amr } = (await agent.get('/api/auth/me').expect(200)).body.session;
      expect(Date.parse(amr.find((entry: { method: string }) => entry.method === 'passkey').at)).toBeGreaterThanOrEqual(before - 1000);
      expect(await events(ctx.app, { userId: user.id, type: 'mfa.succeeded' })).toHaveLength(2);
      expect((await deleteJson(agent, `/api/auth/factors/${factorId}`)).status).toBe(204);
    });

    it('asks for a factor, not the password alone, before a passkey is added to an account that has one', async () => {
      const { user, key } = await withPasskey();
      const agent = freshAgent();
      await provePasskey(agent, key, '/api/auth/passkey/options', '/api/auth/passkey');
      await sleep(REAUTH_MS + 200);
      expect((await postJson(agent, '/api/auth/reauth', { password: user.password })).status).toBe(204);
      const passwordOnly = await postJson(agent, '/api/auth/factors/passkey/options');
      expect(passwordOnly.status).toBe(403);
      expect(passwordOnly.body.error).toMatchObject({ code: 'AUTH_1009', details: { factor: true } });
    });

    it('refuses another account’s passkey, a second answer, or a passkey with a password: nothing renewed', async () => {
      const owner = await withPasskey();
      const { key } = await withPasskey();
      const agent = freshAgent();
      await provePasskey(agent, key, '/api/auth/passkey/options', '/api/auth/passkey');

      const options = (await postJson(agent, '/api/auth/reauth/passkey/options')).body;
      const wrongKey = await postJson(agent, '/api/auth/reauth', { passkey: owner.key.authenticate(options) });
      expect(wrongKey.status).toBe(401);
      expect(wrongKey.body.error.code).toBe('AUTH_1013');

      const fresh = (await postJson(agent, '/api/auth/reauth/passkey/options')).body;
      const answer = key.authenticate(fresh);
      const both = await postJson(agent, '/api/auth/reauth', { passkey: answer, password: 'whatever' });
      expect(both.status).toBe(400);
      expect(both.body.error.code).toBe('VAL_2001');
      expect((await postJson(agent, '/api/auth/reauth', { passkey: answer })).status).toBe(204);
      const again = await postJson(agent, '/api/auth/reauth', { passkey: answer });
      expect(again.status).toBe(401);
      expect(again.body.error.code).toBe('AUTH_1013');
    });

    it('gives options only to a signed-in account that has a passkey', async () => {
      const anonymous = await postJson(freshAgent(), '/api/auth/reauth/passkey/options');
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.error.code).toBe('AUTH_1004');
      const none = await postJson(await signedIn(await createUser(ctx.app)), '/api/auth/reauth/passkey/options');
      expect(none.status).toBe(404);
      expect(none.body.error.code).toBe('RES_3001');
    });
  });

  describe('challenges, across instances and over time', () => {
    it('takes a challenge issued by one instance on another, once: two instances share them through the database', async () => {
      const { key } = await withPasskey();
      const other = await createTestApp({ db: ctx.db, env: ENV });
      try {
        const options = (await postJson(freshAgent(), '/api/auth/passkey/options')).body;
        const answer = key.authenticate(options);
        const elsewhere = newAgent(other).set('X-Forwarded-For', `198.51.100.${nextIp++}`);
        expect((await postJson(elsewhere, '/api/auth/passkey', { response: answer })).status).toBe(200);
        const back = await postJson(freshAgent(), '/api/auth/passkey', { response: answer });
        expect(back.status).toBe(401);
        expect(back.body.error.code).toBe('AUTH_1013');
      } finally {
        await other.close();
      }
    });

    it('keeps challenges by _id and lets expired ones go: a TTL index on MongoDB, the sweep where there is none', async () => {
      const challenges = connectionOf(ctx.app).collection<{ _id: string; purpose: string; expiresAt: Date }>('webauthn_challenges');
      const expiry = (await challenges.indexes()).find((index) => index.key.expiresAt === 1);
      expect(expiry).toBeDefined();
      await challenges.insertOne({ _id: 'expired-challenge', purpose: 'sign-in', expiresAt: new Date(Date.now() - AN_HOUR_MS) });
      if (expiry?.expireAfterSeconds === undefined) {
        await ctx.app.get(ExpirySweeper).sweep();
        expect(await challenges.findOne({ _id: 'expired-challenge' })).toBeNull();
      } else {
        expect(expiry.expireAfterSeconds).toBe(0);
      }
      const factors = await connectionOf(ctx.app).collection('second_factors').indexes();
      expect(factors.map((index) => index.key)).toContainEqual({ 'passkey.credentialId': 1 });
    });

    it('counts passkey checks in the metrics by method and result', async () => {
      const { user, key } = await withPasskey({ userVerified: false });
      expect((await provePasskey(freshAgent(), key, '/api/auth/passkey/options', '/api/auth/passkey')).status).toBe(401);
      const agent = freshAgent();
      await postJson(agent, '/api/auth/login', { email: user.email, password: user.password });
      expect((await provePasskey(agent, key, '/api/auth/login/passkey/options', '/api/auth/login/passkey')).status).toBe(200);
      const metrics = (await newAgent(ctx.app).get('/metrics').expect(200)).text;
      expect(metrics).toMatch(/auth_second_factor_total\{method="passkey",result="success"\} [1-9]/);
      expect(metrics).toMatch(/auth_second_factor_total\{method="passkey",result="failure"\} [1-9]/);
    });
  });
});
