import { csrfToken, newAgent, signIn } from '../helpers/agents';
import { formCsrfToken } from '../helpers/forms';
import { connectionOf, useTestApp } from '../helpers/test-app';
import { createUser, TestUser } from '../helpers/users';

const REGISTRY_CODE = /\b(AUTH_10\d\d|VAL_200\d|RES_3001)\b/;

interface Case {
  name: string;
  method: 'get' | 'post' | 'put' | 'delete' | 'patch';
  path: string;
  /** 'json' sends the body raw as application/json; 'form' as urlencoded; else a content type. */
  type?: string;
  body?: string;
  headers?: Record<string, string>;
}

const json = (name: string, body: string, path = '/api/auth/login'): Case => ({
  name,
  method: 'post',
  path,
  type: 'application/json',
  body,
});
const form = (name: string, body: string): Case => ({
  name,
  method: 'post',
  path: '/login',
  type: 'application/x-www-form-urlencoded',
  body,
});

const CASES: Case[] = [
  json('operator object as email', '{"email":{"$gt":""},"password":"x"}'),
  json('operator object as password', '{"email":"admin@localhost","password":{"$ne":null}}'),
  json('$where injection', '{"email":"a@b.c","password":"x","$where":"sleep(1000)"}'),
  json('array as email', '{"email":["a@b.c","admin@localhost"],"password":"x"}'),
  json('array body', '[{"email":"a@b.c","password":"x"}]'),
  json('null email', '{"email":null,"password":"x"}'),
  json('number email', '{"email":42,"password":"x"}'),
  json('huge email', JSON.stringify({ email: `${'a'.repeat(10_000)}@b.c`, password: 'x' })),
  json('huge password', JSON.stringify({ email: 'a@b.c', password: 'x'.repeat(10_000) })),
  json('unicode email', JSON.stringify({ email: 'ünïcødé@例え.テスト', password: 'pässwörd‮txt' })),
  json('null bytes', JSON.stringify({ email: 'admin@localhost\u0000', password: 'x\u0000y' })),
  json('duplicate keys smuggling an operator', '{"email":"a@b.c","email":{"$gt":""},"password":"x"}'),
  json('__proto__ pollution', '{"email":"a@b.c","password":"x","__proto__":{"role":"admin"}}'),
  json('constructor pollution', '{"email":"a@b.c","password":"x","constructor":{"prototype":{"role":"admin"}}}'),
  json('truncated JSON', '{"email":"a@b.c","password":'),
  json('JSON string instead of object', '"admin@localhost"'),
  { name: 'text/plain body', method: 'post', path: '/api/auth/login', type: 'text/plain', body: 'email=a@b.c&password=x' },
  { name: 'XML body', method: 'post', path: '/api/auth/login', type: 'application/xml', body: '<login><email>a@b.c</email></login>' },
  {
    name: 'unsupported charset',
    method: 'post',
    path: '/api/auth/login',
    type: 'application/json; charset=utf-7',
    body: '{"email":"a@b.c","password":"x"}',
  },
  form('bracketed operator field', 'email%5B%24gt%5D=&password=x'),
  form('repeated email field', 'email=a%40b.c&email=admin%40localhost&password=x'),
  form('off-site next //evil.example', 'email=a%40b.c&password=wrong&next=%2F%2Fevil.example'),
  form('off-site next https://evil.example', 'email=a%40b.c&password=wrong&next=https%3A%2F%2Fevil.example'),
  form('off-site next /\\evil.example', 'email=a%40b.c&password=wrong&next=%2F%5Cevil.example'),
  form('huge next', `email=a%40b.c&password=wrong&next=%2F${'a'.repeat(5000)}`),
  { name: 'PUT on the login route', method: 'put', path: '/api/auth/login', type: 'application/json', body: '{}' },
  { name: 'malformed percent-encoding in the path', method: 'get', path: '/api/%E0%A4%A' },
  { name: 'path traversal to package.json', method: 'get', path: '/css/..%2f..%2fpackage.json' },
  { name: 'garbage session cookie', method: 'get', path: '/api/auth/me', headers: { Cookie: 'session_token=s%3A%00%FF%FE.%00' } },
  {
    name: 'header injection in X-Correlation-ID',
    method: 'get',
    path: '/api/auth/me',
    headers: { 'X-Correlation-ID': 'abc%0d%0aSet-Cookie:%20x=1' },
  },
  { name: 'script in X-Correlation-ID', method: 'get', path: '/api/auth/me', headers: { 'X-Correlation-ID': '<script>alert(1)</script>' } },
  {
    name: 'refresh without a session',
    method: 'post',
    path: '/api/auth/session/refresh',
    type: 'application/json',
    body: '{"force":true}',
  },
];

describe('hostile input', () => {
  let user: TestUser;

  async function snapshot() {
    const db = connectionOf(ctx.app);
    const users = await db
      .collection('users')
      .find({}, { sort: { _id: 1 } })
      .toArray();
    const sessions = await db
      .collection('sessions')
      .find({}, { sort: { _id: 1 } })
      .toArray();
    return JSON.stringify({ users, sessions });
  }

  const ctx = useTestApp({
    db: 'hostile',
    env: { LOGIN_MAX_FAILURES: '1000', LOGIN_MAX_FAILURES_PER_IP: '1000' },
  });
  beforeAll(async () => {
    user = await createUser(ctx.app);
    await signIn(ctx.app, user); // a live session that must come through untouched
  });

  it.each(CASES.map((c) => [c.name, c] as const))(
    '%s: a 4xx with a registry code, no redirect off-site, nothing changed',
    async (_name, hostile) => {
      const before = await snapshot();
      const agent = newAgent(ctx.app);
      const token = hostile.method === 'get' ? '' : await csrfToken(agent);
      const formToken = hostile.path === '/login' ? formCsrfToken((await agent.get('/login')).text) : '';
      let request = agent[hostile.method](hostile.path).set('X-CSRF-Token', token);
      for (const [name, value] of Object.entries(hostile.headers ?? {})) request = request.set(name, value);
      if (hostile.type) request = request.set('Content-Type', hostile.type);
      const body = formToken ? `${hostile.body}&_csrf=${encodeURIComponent(formToken)}` : hostile.body;
      const response = await (body === undefined ? request : request.send(body));

      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expect(response.text).toMatch(REGISTRY_CODE);
      expect(response.headers.location).toBeUndefined();
      expect(response.text).not.toMatch(/evil\.example|<script>|at \w+ \(|node_modules/);
      expect(response.headers['x-correlation-id']).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
      expect(response.headers['set-cookie'] ?? []).not.toEqual(expect.arrayContaining([expect.stringMatching(/^x=1/)]));
      expect(await snapshot()).toBe(before);
    },
  );

  describe('on admin routes, signed in as an admin', () => {
    const ADMIN_CASES: Case[] = [
      {
        name: 'bad ObjectId in PATCH users/:id',
        method: 'patch',
        path: '/api/admin/users/123',
        type: 'application/json',
        body: '{"name":"x"}',
      },
      {
        name: 'operator in ObjectId position',
        method: 'patch',
        path: '/api/admin/users/%7B%22%24gt%22%3A%22%22%7D',
        type: 'application/json',
        body: '{"name":"x"}',
      },
      { name: 'bad userId filter', method: 'get', path: '/api/admin/sessions?userId=zzz' },
      { name: 'operator in userId filter', method: 'get', path: '/api/admin/events?userId[$ne]=x' },
      { name: 'bad session id', method: 'delete', path: '/api/admin/sessions/..%2F..%2Fusers' },
      {
        name: 'array in a boolean field',
        method: 'patch',
        path: '/api/admin/users/0123456789abcdef01234567',
        type: 'application/json',
        body: '{"disabled":[true]}',
      },
      {
        name: 'operator object as role',
        method: 'patch',
        path: '/api/admin/users/0123456789abcdef01234567',
        type: 'application/json',
        body: '{"role":{"$ne":"user"}}',
      },
      { name: 'huge search', method: 'get', path: `/api/admin/users?q=${'a'.repeat(2000)}` },
      { name: 'negative page', method: 'get', path: '/api/admin/users?page=-1' },
      { name: 'page size above 100', method: 'get', path: '/api/admin/events?pageSize=1000' },
      { name: 'non-numeric page', method: 'get', path: '/api/admin/sessions?page=1e309' },
    ];

    it.each(ADMIN_CASES.map((c) => [c.name, c] as const))('%s: a 4xx with a registry code, nothing changed', async (_name, hostile) => {
      const admin = await createUser(ctx.app, { role: 'admin' });
      const agent = await signIn(ctx.app, admin);
      const before = await snapshot();
      const token = await csrfToken(agent);
      const method = hostile.method as 'get' | 'patch' | 'delete';
      let request = agent[method](hostile.path).set('X-CSRF-Token', token);
      if (hostile.type) request = request.set('Content-Type', hostile.type);
      const response = await (hostile.body === undefined ? request : request.send(hostile.body));
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expect(response.body.error.code).toMatch(REGISTRY_CODE);
      expect(await snapshot()).toBe(before);
    });
  });

  it('renders the login page for an off-site next without the value and without redirecting', async () => {
    for (const next of ['//evil.example', 'https://evil.example', '/\\evil.example']) {
      const response = await newAgent(ctx.app)
        .get(`/login?next=${encodeURIComponent(next)}`)
        .expect(200);
      expect(response.text).not.toContain('evil.example');
    }
  });
});
