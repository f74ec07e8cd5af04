import { Types } from 'mongoose';
import { Agent, csrfToken, newAgent, signIn } from '../helpers/agents';
import { formCsrfToken } from '../helpers/forms';
import { connectionOf, useTestApp } from '../helpers/test-app';
import { createUser, TestUser } from '../helpers/users';

/** Strings MongoDB's driver refuses (a NUL in a regular expression or a field name) or silently alters (a lone surrogate). */
const UNSAFE = [
  ['a NUL', 'a\u0000b'],
  ['a lone high surrogate', 'a\uD800b'],
  ['a lone low surrogate', '\uDC00'],
] as const;

describe('strings the database driver refuses: 400 VAL_2001 naming the field, never a 500', () => {
  let admin: TestUser;
  let adminAgent: Agent;

  const ctx = useTestApp({ db: 'driver_strings', env: { TRUST_PROXY: '1' } });
  beforeAll(async () => {
    admin = await createUser(ctx.app, { role: 'admin' });
    adminAgent = await signIn(ctx.app, admin);
  });

  const users = () => connectionOf(ctx.app).collection('users');

  async function send(method: 'post' | 'patch', path: string, body: object, agent = adminAgent) {
    const token = await csrfToken(agent);
    return agent[method](path).set('X-CSRF-Token', token).send(body);
  }

  function expectRefused(response: { status: number; body: { error?: { code: string; details?: { fields?: object } } } }, field: string) {
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'VAL_2001', details: { fields: { [field]: expect.any(String) } } });
  }

  it('a NUL in the user search (?q=) is 400 VAL_2001 in the API and a 400 page in the console', async () => {
    expectRefused(await adminAgent.get('/api/admin/users?q=a%00b'), 'q');
    const page = await adminAgent.get('/admin/users?q=%00');
    expect(page.status).toBe(400);
    expect(page.type).toBe('text/html');
    expect(page.text).toContain('VAL_2001');
    expect(page.text).not.toMatch(/BSON|regular expression|at \w+ \(/i);
  });

  it('a NUL through a proxy, in every query parameter of the admin lists, is 400 VAL_2001', async () => {
    for (const [path, field] of [
      ['/api/admin/users?q=x&page=1%00', 'page'],
      ['/api/admin/events?type=%00', 'type'],
      ['/api/admin/sessions?userId=%00', 'userId'],
      ['/api/admin/analytics?range=24h%00', 'range'],
    ]) {
      expectRefused(await adminAgent.get(path).set('X-Forwarded-For', '203.0.113.9'), field);
    }
  });

  it.each(UNSAFE)('%s in a JSON field is refused and nothing is stored', async (_name, unsafe) => {
    const user = await createUser(ctx.app, { name: 'Before' });
    expectRefused(await send('patch', `/api/admin/users/${user.id}`, { name: unsafe }), 'name');
    expect((await users().findOne({ _id: new Types.ObjectId(user.id) }))?.name).toBe('Before');

    const email = `unsafe-${Math.random().toString(36).slice(2)}@example.test`;
    expectRefused(await send('post', '/api/admin/users', { email, password: 'a good long passphrase', name: unsafe }), 'name');
    expect(await users().countDocuments({ email })).toBe(0);
  });

  it('names a nested field or a field name that holds one', async () => {
    const user = await createUser(ctx.app);
    expectRefused(await send('patch', `/api/admin/users/${user.id}`, { name: ['ok', 'x\u0000'] }), 'name.1');
    expectRefused(await send('patch', `/api/admin/users/${user.id}`, { ['na\u0000me']: 'x' }), 'na\uFFFDme');
  });

  it('sign-in refuses them before any lookup: JSON API and the form page', async () => {
    const agent = newAgent(ctx.app);
    expectRefused(await send('post', '/api/auth/login', { email: `${admin.email}\u0000`, password: admin.password }, agent), 'email');
    expectRefused(await send('post', '/api/auth/login', { email: admin.email, password: `${admin.password}\uD800` }, agent), 'password');

    const form = (await agent.get('/login').expect(200)).text;
    const page = await agent
      .post('/login')
      .type('form')
      .send(`email=${encodeURIComponent(admin.email)}%00&password=x&_csrf=${encodeURIComponent(formCsrfToken(form))}`);
    expect(page.status).toBe(400);
    expect(page.text).toContain('VAL_2001');
  });

  it('route parameters are refused too, whatever their pipe', async () => {
    for (const path of ['/api/admin/users/%00', `/api/admin/users/${admin.id.slice(0, 23)}%00`]) {
      expectRefused(await send('patch', path, { name: 'x' }), 'id');
    }
    const page = await adminAgent.get('/admin/users/%00');
    expect(page.status).toBe(400);
    expect(page.text).toContain('VAL_2001');
  });

  it('ordinary non-ASCII text, paired surrogates included, is still accepted', async () => {
    const user = await createUser(ctx.app);
    const response = await send('patch', `/api/admin/users/${user.id}`, { name: 'Zoë 例え 😀' });
    expect(response.status).toBe(200);
    expect(response.body.user.name).toBe('Zoë 例え 😀');
    await adminAgent.get(`/api/admin/users?q=${encodeURIComponent('zoë😀')}`).expect(200);
  });
});
