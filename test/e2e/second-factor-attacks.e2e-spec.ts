import { Agent, csrfToken, deleteJson as del, newAgent, postJson as post, setCookie, signIn } from '../helpers/agents';
import { awayFromStepEdge, enrolTotp, enrolTotpAt, totpCode } from '../helpers/second-factors';
import { useTestApp } from '../helpers/test-app';
import { createUser, TestUser } from '../helpers/users';

/** An outside review's attacks on second factors; the three that first succeeded are named by what now holds. */
const STEP_MS = 30_000;
const MAX_FAILURES = 3;
let nextIp = 1;

describe('second factors under attack', () => {
  const ctx = useTestApp({
    db: 'review_mfa_attacks',
    env: { TRUST_PROXY: '1', LOGIN_MAX_FAILURES: String(MAX_FAILURES), LOGIN_LOCK_MINUTES: '1' },
  });
  const freshAgent = () => newAgent(ctx.app).set('X-Forwarded-For', `198.18.${Math.floor(nextIp / 250)}.${(nextIp++ % 250) + 1}`);

  async function passwordStep(user: TestUser, agent = freshAgent()) {
    const response = await post(agent, '/api/auth/login', { email: user.email, password: user.password });
    return { agent, response };
  }

  it('gives device cookies collected before enrolment no codes to guess while the account is locked', async () => {
    const user = await createUser(ctx.app);
    // The attacker knows the password while the account has no factor yet: three sign-ins, three device cookies.
    const attackers: Agent[] = [];
    for (let i = 0; i < 3; i++) {
      const agent = freshAgent();
      const res = await post(agent, '/api/auth/login', { email: user.email, password: user.password });
      expect(res.status).toBe(200);
      expect(setCookie(res.headers, 'device')).toBeDefined();
      attackers.push(agent);
    }
    // The owner enrols an authenticator app (the attacker's sessions end: the stamp moved on).
    const owner = await signIn(ctx.app, user, freshAgent());
    const { secret } = await enrolTotp(owner);
    for (const agent of attackers) expect((await agent.get('/api/auth/me')).status).toBe(401);

    // Lock the account with code guesses from a browser without a device cookie.
    const stranger = (await passwordStep(user)).agent;
    for (let i = 0; i < MAX_FAILURES; i++) expect((await post(stranger, '/api/auth/login/totp', { code: '000000' })).status).toBe(401);
    const locked = await passwordStep(user);
    expect(locked.response.status).toBe(429);

    // The account is locked: an old device cookie gets past the password step's lock, but its code guesses meet the account's.
    let checkedWhileLocked = 0;
    for (const agent of attackers.slice(0, 2)) {
      const step = await passwordStep(user, agent);
      expect(step.response.status).toBe(200);
      for (let i = 0; i < 2; i++) {
        const guess = await post(agent, '/api/auth/login/totp', { code: String(111111 + i) });
        if (guess.status === 401 && guess.body.error.code === 'AUTH_1013') checkedWhileLocked++;
      }
    }
    // Still locked for everyone else.
    expect((await passwordStep(user)).response.status).toBe(429);
    // Even the right code through the third old device cookie is refused while the account is locked.
    const last = attackers[2];
    expect((await passwordStep(user, last)).response.status).toBe(200);
    await awayFromStepEdge();
    const right = await post(last, '/api/auth/login/totp', { code: totpCode(secret, Date.now() + STEP_MS) });
    expect(checkedWhileLocked).toBe(0);
    expect(right.status).toBe(429);
  });

  it('never lets a password re-authentication start the code count over: guesses between re-authentications add up to the lockout', async () => {
    const user = await createUser(ctx.app);
    const owner = freshAgent();
    const login = await post(owner, '/api/auth/login', { email: user.email, password: user.password });
    expect(login.status).toBe(200);
    const started = await post(owner, '/api/auth/factors/totp');
    await awayFromStepEdge();
    const confirmed = await post(owner, `/api/auth/factors/totp/${started.body.id}/verify`, { code: totpCode(started.body.secret) });
    expect(confirmed.status).toBe(200);
    // The attacker holds this session's cookie (not the device cookie) and knows the password, not the factor.
    let cookie = setCookie(confirmed.headers, 'session_token')!.split(';')[0];
    const ip = `198.18.250.${(nextIp++ % 250) + 1}`;
    const send = async (path: string, body: object) => {
      const t = await newAgent(ctx.app).get('/api/auth/csrf').set('X-Forwarded-For', ip).set('Cookie', cookie);
      const csrfCookie = ((t.headers['set-cookie'] as unknown as string[] | undefined) ?? []).map((c) => c.split(';')[0]);
      const res = await newAgent(ctx.app)
        .post(path)
        .set('X-Forwarded-For', ip)
        .set('Cookie', [cookie, ...csrfCookie].join('; '))
        .set('X-CSRF-Token', t.body.token)
        .send(body);
      const fresh = setCookie(res.headers, 'session_token');
      if (fresh && !fresh.startsWith('session_token=;')) cookie = fresh.split(';')[0];
      return res;
    };
    let checkedWrong = 0;
    let refused = 0;
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < MAX_FAILURES - 1; i++) {
        const guess = await send('/api/auth/reauth', { code: String(200000 + round * 10 + i) });
        if (guess.body?.error?.code === 'AUTH_1013') checkedWrong++;
        if (guess.status === 429) refused++;
      }
      expect([204, 429]).toContain((await send('/api/auth/reauth', { password: user.password })).status);
    }
    // The right code is refused too while the count stands: guessing ends at the lockout.
    await awayFromStepEdge();
    const right = await send('/api/auth/reauth', { code: totpCode(started.body.secret, Date.now() + STEP_MS) });
    expect(checkedWrong).toBeLessThanOrEqual(MAX_FAILURES);
    expect(refused).toBeGreaterThan(0);
    expect(right.status).toBe(429);
  });

  it('an admin reset racing a second step leaves no session of the user alive', async () => {
    const admin = await createUser(ctx.app, { role: 'admin' });
    const adminAgent = await signIn(ctx.app, admin, freshAgent());
    const survivors: string[] = [];
    for (let i = 0; i < 6; i++) {
      const user = await createUser(ctx.app);
      const { secret } = await enrolTotpAt(ctx.app, user, Date.now() - 10 * STEP_MS);
      const { agent } = await passwordStep(user);
      const [t1, t2] = [await csrfToken(agent), await csrfToken(adminAgent)];
      await awayFromStepEdge();
      const code = totpCode(secret);
      const [done, reset] = await Promise.all([
        agent.post('/api/auth/login/totp').set('X-CSRF-Token', t1).send({ code }),
        adminAgent.delete(`/api/admin/users/${user.id}/factors`).set('X-CSRF-Token', t2),
      ]);
      const me = await agent.get('/api/auth/me');
      if (me.status === 200) survivors.push(`round ${i}: second step ${done.status}, reset ${reset.status}, me ${me.status}`);
      const left = await agent.get('/api/sessions');
      if (left.status === 200) survivors.push(`round ${i}: sessions list ${left.status}`);
    }
    expect(survivors).toEqual([]);
  });

  it('a password change ends a sign-in waiting for its second step', async () => {
    const user = await createUser(ctx.app);
    const { secret } = await enrolTotpAt(ctx.app, user, Date.now() - 10 * STEP_MS);
    const { agent: attacker } = await passwordStep(user);
    const { agent: owner } = await passwordStep(user);
    await awayFromStepEdge();
    expect((await post(owner, '/api/auth/login/totp', { code: totpCode(secret) })).status).toBe(200);
    expect(
      (await post(owner, '/api/auth/password', { currentPassword: user.password, newPassword: 'Another-long-password-42!' })).status,
    ).toBe(204);
    const late = await post(attacker, '/api/auth/login/totp', { code: totpCode(secret, Date.now() + STEP_MS) });
    expect(late.status).toBe(401);
  });

  it('checks at most the account’s budget of parallel code guesses, also from a known browser', async () => {
    const user = await createUser(ctx.app);
    const agent = freshAgent();
    expect((await post(agent, '/api/auth/login', { email: user.email, password: user.password })).status).toBe(200);
    await enrolTotp(agent);
    await post(agent, '/api/auth/logout');
    expect((await passwordStep(user, agent)).response.status).toBe(200);
    const token = await csrfToken(agent);
    const guesses = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        agent
          .post('/api/auth/login/totp')
          .set('X-CSRF-Token', token)
          .send({ code: String(300000 + i) }),
      ),
    );
    const statuses = guesses.map((g) => g.status).sort();
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(3);
  });

  it('admin reset: CSRF, own account, bad ids, non-admins', async () => {
    const admin = await createUser(ctx.app, { role: 'admin' });
    const adminAgent = await signIn(ctx.app, admin, freshAgent());
    const user = await createUser(ctx.app);
    await enrolTotpAt(ctx.app, user, Date.now() - 10 * STEP_MS);
    const seen: string[] = [];
    const noCsrf = await adminAgent.delete(`/api/admin/users/${user.id}/factors`);
    seen.push(`no csrf -> ${noCsrf.status} ${noCsrf.body?.error?.code}`);
    const pageNoCsrf = await adminAgent.post(`/admin/users/${user.id}/factors/reset`).type('form').send({});
    seen.push(`page no csrf -> ${pageNoCsrf.status}`);
    for (const id of [admin.id, 'nope', '000000000000000000000000', '%24ne', 'a'.repeat(5000)]) {
      const token = await csrfToken(adminAgent);
      const res = await adminAgent.delete(`/api/admin/users/${id}/factors`).set('X-CSRF-Token', token);
      seen.push(`${id.slice(0, 30)} -> ${res.status} ${res.body?.error?.code}`);
      expect(res.status).toBeLessThan(500);
      expect(res.status).toBeGreaterThanOrEqual(400);
    }
    const plain = await signIn(ctx.app, await createUser(ctx.app), freshAgent());
    const token = await csrfToken(plain);
    const byUser = await plain.delete(`/api/admin/users/${user.id}/factors`).set('X-CSRF-Token', token);
    seen.push(`non-admin -> ${byUser.status} ${byUser.body?.error?.code}`);
    expect(noCsrf.status).toBe(403);
    expect(byUser.status).toBe(403);
    expect((await post(freshAgent(), '/api/auth/login', { email: user.email, password: user.password })).body.secondFactor).toBeDefined();
  });

  it('spends one recovery code once among parallel second steps', async () => {
    const user = await createUser(ctx.app);
    const { recoveryCodes } = await enrolTotpAt(ctx.app, user, Date.now() - 10 * STEP_MS);
    const steps = await Promise.all(Array.from({ length: 5 }, () => passwordStep(user)));
    const prepared = await Promise.all(steps.map(async ({ agent }) => ({ agent, token: await csrfToken(agent) })));
    const results = await Promise.all(
      prepared.map(({ agent, token }) =>
        agent.post('/api/auth/login/recovery').set('X-CSRF-Token', token).send({ code: recoveryCodes[0] }),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
  });

  it('accepts one TOTP code once among many parallel second steps', async () => {
    const user = await createUser(ctx.app);
    const { secret } = await enrolTotpAt(ctx.app, user, Date.now() - 10 * STEP_MS);
    const steps = await Promise.all(Array.from({ length: 6 }, () => passwordStep(user)));
    const prepared = await Promise.all(steps.map(async ({ agent }) => ({ agent, token: await csrfToken(agent) })));
    await awayFromStepEdge();
    const code = totpCode(secret);
    const results = await Promise.all(
      prepared.map(({ agent, token }) => agent.post('/api/auth/login/totp').set('X-CSRF-Token', token).send({ code })),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
  });

  it('lets a pending session reach nothing but the second step (surface sweep)', async () => {
    const user = await createUser(ctx.app);
    const { factorId } = await enrolTotpAt(ctx.app, user, Date.now() - 10 * STEP_MS);
    const { agent } = await passwordStep(user);
    const token = await csrfToken(agent);
    const probes: [string, string, object?][] = [
      ['get', '/api/auth/me'],
      ['get', '/API/AUTH/ME'],
      ['get', '/api/auth/me/'],
      ['head', '/api/auth/me'],
      ['get', '/api/auth/session'],
      ['post', '/api/auth/session/refresh'],
      ['post', '/api/auth/reauth', { password: user.password }],
      ['post', '/api/auth/reauth', { code: '123456' }],
      ['post', '/api/auth/reauth/passkey/options'],
      ['post', '/api/auth/password', { currentPassword: user.password, newPassword: 'a-new-password-123456' }],
      ['get', '/api/sessions'],
      ['delete', '/api/sessions'],
      ['delete', '/api/sessions/abc'],
      ['get', '/api/auth/factors'],
      ['post', '/api/auth/factors/totp'],
      ['post', '/api/auth/factors/passkey/options'],
      ['delete', `/api/auth/factors/${factorId}`],
      ['post', '/api/auth/recovery-codes'],
      ['get', '/api/admin/users'],
      ['get', '/api/admin/sessions'],
      ['get', '/dashboard'],
      ['get', '/account/security'],
      ['get', '/account/sessions'],
      ['get', '/reauth'],
      ['post', '/reauth'],
      ['get', '/admin'],
      ['get', '/admin/users'],
    ];
    const reached: string[] = [];
    for (const [method, path, body] of probes) {
      type Sent = { status: number; body: { error?: { code?: string } }; headers: Record<string, string> };
      const call = (agent as unknown as Record<string, (p: string) => { set(k: string, v: string): { send(b?: object): Promise<Sent> } }>)[
        method
      ];
      const res = await call.call(agent, path).set('X-CSRF-Token', token).send(body);
      const code = res.body?.error?.code ?? res.headers.location ?? '';
      if (res.status < 300 || (res.status >= 400 && code !== 'AUTH_1012')) reached.push(`${method} ${path} -> ${res.status} ${code}`);
    }
    // Factors and the session are untouched.
    expect((await agent.get('/api/auth/me')).body.error.code).toBe('AUTH_1012');
    expect(reached.filter((line) => / -> 2\d\d/.test(line))).toEqual([]);
  });

  it('refuses malformed and oversized codes and reauth bodies with 400/413, never 500', async () => {
    const user = await createUser(ctx.app);
    await enrolTotpAt(ctx.app, user, Date.now() - 10 * STEP_MS);
    const { agent } = await passwordStep(user);
    const bad: unknown[] = [
      { code: 123456 },
      { code: ['123456'] },
      { code: { $ne: null } },
      { code: null },
      { code: '1'.repeat(33) },
      {},
      { code: '' },
    ];
    const seen: string[] = [];
    for (const body of bad) {
      for (const path of ['/api/auth/login/totp', '/api/auth/login/recovery']) {
        const res = await post(agent, path, body as object);
        seen.push(`${path} ${JSON.stringify(body)} -> ${res.status} ${res.body?.error?.code}`);
        expect(res.status).toBeLessThan(500);
        expect(res.status).not.toBe(200);
      }
    }
    const big = await post(agent, '/api/auth/login/totp', { code: 'x'.repeat(2_000_000) });
    seen.push(`big -> ${big.status} ${big.body?.error?.code}`);
    expect(big.status).toBeLessThan(500);
    const signedIn = await signIn(ctx.app, await createUser(ctx.app), freshAgent());
    for (const body of [
      { password: 'x', code: '123456' },
      { password: 'x', passkey: null },
      { code: null },
      { passkey: {} },
      { passkey: 'abc' },
      { password: ['a'] },
      { code: '123456', passkey: { id: 'a', rawId: 'a', type: 'public-key', response: {} } },
      {},
    ]) {
      const res = await post(signedIn, '/api/auth/reauth', body);
      seen.push(`reauth ${JSON.stringify(body)} -> ${res.status} ${res.body?.error?.code}`);
      expect(res.status).toBeLessThan(500);
      expect(res.status).not.toBe(204);
    }
  });
});

describe('second factors under attack: MFA_REQUIRED_ROLES and factor changes', () => {
  const ctx = useTestApp({ db: 'review_mfa_policy', env: { TRUST_PROXY: '1', MFA_REQUIRED_ROLES: 'admin' } });
  const freshAgent = () => newAgent(ctx.app).set('X-Forwarded-For', `198.19.0.${(nextIp++ % 250) + 1}`);
  it('an enrolment-only sign-in reaches nothing but enrolment', async () => {
    const admin = await createUser(ctx.app, { role: 'admin' });
    const agent = freshAgent();
    expect((await post(agent, '/api/auth/login', { email: admin.email, password: admin.password })).body.secondFactor.enrol).toBe(true);
    const reached: string[] = [];
    for (const [method, path] of [
      ['post', '/api/auth/recovery-codes'],
      ['delete', '/api/auth/factors/000000000000000000000000'],
      ['get', '/api/sessions'],
      ['post', '/api/auth/reauth'],
      ['post', '/api/auth/reauth/passkey/options'],
      ['post', '/api/auth/login/passkey/options'],
      ['get', '/api/admin/users'],
      ['get', '/api/auth/session'],
      ['post', '/api/admin/users'],
    ]) {
      const res =
        method === 'delete'
          ? await del(agent, path)
          : method === 'get'
            ? await agent.get(path)
            : await post(agent, path, { password: admin.password, email: 'x@example.test' });
      if (res.body?.error?.code !== 'AUTH_1012') reached.push(`${method} ${path} -> ${res.status} ${res.body?.error?.code}`);
    }
    expect(reached.filter((line) => / -> 2\d\d/.test(line))).toEqual([]);
  });

  it('ends an attacker’s enrolment-only sign-in once the owner enrols', async () => {
    const admin = await createUser(ctx.app, { role: 'admin' });
    const attacker = freshAgent();
    await post(attacker, '/api/auth/login', { email: admin.email, password: admin.password });
    const owner = freshAgent();
    await post(owner, '/api/auth/login', { email: admin.email, password: admin.password });
    const started = await post(owner, '/api/auth/factors/totp');
    await awayFromStepEdge();
    expect((await post(owner, `/api/auth/factors/totp/${started.body.id}/verify`, { code: totpCode(started.body.secret) })).status).toBe(
      200,
    );
    const list = await attacker.get('/api/auth/factors');
    const mint = await post(attacker, '/api/auth/factors/totp');
    expect(list.status).toBe(401);
    expect(mint.status).toBe(401);
  });

  it('refuses to remove the last factor of a role that requires one', async () => {
    const admin = await createUser(ctx.app, { role: 'admin' });
    const agent = freshAgent();
    await post(agent, '/api/auth/login', { email: admin.email, password: admin.password });
    const started = await post(agent, '/api/auth/factors/totp');
    await awayFromStepEdge();
    const confirmed = await post(agent, `/api/auth/factors/totp/${started.body.id}/verify`, { code: totpCode(started.body.secret) });
    expect(confirmed.status).toBe(200);
    const removed = await del(agent, `/api/auth/factors/${started.body.id}`);
    const after = await agent.get('/api/admin/users');
    expect((await agent.get('/api/auth/factors')).body.items).toHaveLength(removed.status === 204 ? 0 : 1);
    expect(removed.status).toBe(400);
    expect(removed.body.error.details.fields.id).toContain('last second factor');
    expect(after.status).toBe(200);
  });
});
