import fc from 'fast-check';
import type { Response } from 'supertest';
import { Agent, csrfToken, signIn } from '../helpers/agents';
import { AppRoute, appRoutes } from '../helpers/routes';
import { useTestApp } from '../helpers/test-app';
import { createUser, TestUser } from '../helpers/users';

/** Hostile requests per route; `FUZZ_RUNS=500 FUZZ_SEED=7 npx jest … input-fuzz` searches longer. */
const DEFAULT_RUNS = 20;
const RUNS = Number(process.env.FUZZ_RUNS ?? DEFAULT_RUNS);
const SEED = Number(process.env.FUZZ_SEED ?? 17);
/** Several times what the default runs take on a quiet 2-core machine; the budget grows with the runs. */
const TIMEOUT_MS = 150_000 * Math.max(1, RUNS / DEFAULT_RUNS);

/** Inputs no controller metadata names: an interface-typed query, and the routes SwaggerModule mounts itself. */
const ROUTE_SUPPLEMENTS: Record<string, Partial<AppRoute>> = { 'get /login': { query: ['expired', 'loggedOut', 'next'] } };
const EXTRA_ROUTES: AppRoute[] = [
  { method: 'get', path: '/api/docs-json', params: [], query: [], body: [] },
  { method: 'get', path: '/api/docs', params: [], query: [], body: [] },
];

/** Headers the app reads (client IP, device binding, CSRF, CORS, correlation, content negotiation). */
const HEADERS = [
  'user-agent',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-correlation-id',
  'x-csrf-token',
  'origin',
  'referer',
  'sec-fetch-site',
  'sec-ch-ua',
  'sec-ch-ua-mobile',
  'sec-ch-ua-platform',
  'accept',
  'accept-language',
  'authorization',
  'content-type',
];

/** Any UTF-16 code unit: NUL, controls and lone surrogates included. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit));

/** Longest strings: in a body past every field's limit and the 100 kB cap; in a URL past the limits but mostly under Node's 16 kB header cap (431). */
const LONGEST_IN_BODY = 120_000;
const LONGEST_IN_URL = 4_000;

/** Values the handlers act on, so that some requests get past validation. */
const PLAUSIBLE = [
  'admin',
  'user',
  'true',
  'false',
  '1',
  '2',
  '0',
  '-1',
  '1e309',
  'NaN',
  '24h',
  '7d',
  'yes',
  'unconfirmed',
  'inactivity',
  'login.failed',
];

function hostileString(longest: number): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit: codeUnit, maxLength: 24 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '\u0000',
        'a\u0000b',
        '\uD800',
        'x\uDFFF',
        '\uDC00\uD800',
        '%00',
        '$gt',
        '{"$ne":null}',
        '.*',
        '../..',
        '',
      ),
    },
    { weight: 3, arbitrary: fc.constantFrom(...PLAUSIBLE) },
    { weight: 1, arbitrary: fc.integer({ min: 300, max: longest }).map((length) => 'a'.repeat(length)) },
  );
}

const hostileValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { maxDepth: 3, depthSize: 'small' },
    hostileString(LONGEST_IN_BODY),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.oneof(hostileString(LONGEST_IN_URL), fc.constantFrom('$ne', '__proto__', 'constructor')), tie('value'), {
      maxKeys: 3,
    }),
  ),
})).value;

/** Header values Node's client can send at all (it refuses NUL and anything above U+00FF itself). */
const headerValue = fc.oneof(
  fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).map((code) => String.fromCharCode(code === 0x7f ? 0x20 : code)), maxLength: 40 }),
  fc.constantFrom('https://evil.example', 'null', 'cross-site', '203.0.113.7, 10.0.0.1', 'not-an-ip', 'https', 'Bearer x', '"?1"', ''),
  fc.integer({ min: 200, max: LONGEST_IN_URL }).map((length) => 'b'.repeat(length)),
);

/** Percent-encodes any string, a lone surrogate as its WTF-8 bytes (which encodeURIComponent refuses to do). */
function percentEncode(text: string): string {
  let encoded = '';
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index);
    const next = text.charCodeAt(index + 1);
    if (unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      encoded += encodeURIComponent(text.slice(index, index + 2));
      index++;
    } else if (unit >= 0xd800 && unit <= 0xdfff) {
      encoded += [0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f)]
        .map((byte) => `%${byte.toString(16).toUpperCase()}`)
        .join('');
    } else {
      encoded += encodeURIComponent(text[index]);
    }
  }
  return encoded;
}

/** A form body: strings as they are, arrays as repeated keys, anything else as its JSON. */
function formEncode(fields: Record<string, unknown>): string {
  return Object.entries(fields)
    .flatMap(([key, value]) =>
      (Array.isArray(value) ? value : [value]).map((item) => [key, typeof item === 'string' ? item : (JSON.stringify(item) ?? '')]),
    )
    .map(([key, item]) => `${percentEncode(key)}=${percentEncode(item)}`)
    .join('&');
}

interface FuzzRequest {
  params: Record<string, string>;
  query: [string, string][];
  headers: Record<string, string>;
  body?: { type: string; text: string };
}

describe('input fuzz: hostile parameters, headers and fields on every route never get a 5xx', () => {
  let admin: TestUser;
  let victim: TestUser;
  let routes: AppRoute[];
  let agent: Agent;
  let token: string;

  async function freshSession(): Promise<void> {
    agent = await signIn(ctx.app, admin);
    token = await csrfToken(agent);
  }

  const ctx = useTestApp({
    db: 'input_fuzz',
    env: { TRUST_PROXY: '1', LOGIN_MAX_FAILURES: '1000000', LOGIN_MAX_FAILURES_PER_IP: '1000000' },
  });
  beforeAll(async () => {
    admin = await createUser(ctx.app, { role: 'admin' });
    victim = await createUser(ctx.app);
    await signIn(ctx.app, victim);
    routes = [...appRoutes(ctx.app).map((route) => ({ ...route, ...ROUTE_SUPPLEMENTS[`${route.method} ${route.path}`] })), ...EXTRA_ROUTES];
    await freshSession();
  });

  /** Ids that exist, so some requests get past "not found" into the handlers' own work. */
  const realId = () => fc.constantFrom(admin.id, victim.id, '0123456789abcdef01234567', 'f'.repeat(64));

  function requestFor(route: AppRoute): fc.Arbitrary<FuzzRequest> {
    const inUrl = hostileString(LONGEST_IN_URL);
    const names = (known: string[]) => fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...known, 'x') }, inUrl);
    const hasBody = route.method !== 'get' && route.method !== 'delete';
    const fields = fc.dictionary(names(route.body), hostileValue, { maxKeys: 4 });
    return fc.record({
      params: fc.record(Object.fromEntries(route.params.map((name) => [name, fc.oneof(realId(), inUrl)]))),
      query: fc.array(fc.tuple(names(route.query), fc.oneof(realId(), inUrl)), { maxLength: 4 }),
      headers: fc.dictionary(fc.constantFrom(...HEADERS), headerValue, { maxKeys: 3 }),
      body: hasBody
        ? fc.oneof(
            fields.map((value) => ({ type: 'application/json', text: JSON.stringify(value) })),
            fields.map((value) => ({ type: 'application/x-www-form-urlencoded', text: formEncode(value) })),
            hostileValue.map((value) => ({ type: 'application/json', text: JSON.stringify(value) ?? 'null' })),
            fc
              .tuple(fc.constantFrom('application/json', 'text/plain', 'application/json; charset=utf-7'), hostileString(LONGEST_IN_BODY))
              .map(([type, text]) => ({
                type,
                text,
              })),
          )
        : fc.constant(undefined),
    });
  }

  async function send(route: AppRoute, request: FuzzRequest): Promise<Response> {
    let path = route.path.replace(/:(\w+)/g, (_match, name: string) => percentEncode(request.params[name]));
    if (request.query.length > 0)
      path += `?${request.query.map(([key, value]) => `${percentEncode(key)}=${percentEncode(value)}`).join('&')}`;
    let call = agent[route.method](path).set('X-CSRF-Token', token);
    for (const [name, value] of Object.entries(request.headers)) call = call.set(name, value);
    if (request.body) call = call.set('Content-Type', request.headers['content-type'] ?? request.body.type).send(request.body.text);
    return call;
  }

  /** Sign-out, revocation, device binding or a fuzzed CSRF header may have cost the admin the session or the token. */
  async function recover(response: Response): Promise<void> {
    const location = String(response.headers.location ?? '');
    const cleared = ([] as string[]).concat(response.headers['set-cookie'] ?? []).some((cookie) => /session_token=;/.test(cookie));
    if (response.status === 401 || cleared || location.startsWith('/login')) await freshSession();
    else if (response.status === 403) token = await csrfToken(agent);
  }

  it('finds the routes to fuzz from the app itself', () => {
    const listed = routes.map((route) => `${route.method} ${route.path}`);
    expect(listed).toEqual(
      expect.arrayContaining(['get /api/admin/users', 'get /admin/users', 'patch /api/admin/users/:id', 'post /login', 'get /health/live']),
    );
    expect(routes.find((route) => route.path === '/api/admin/users' && route.method === 'get')?.query).toEqual(
      expect.arrayContaining(['q', 'page', 'pageSize']),
    );
  });

  it(
    `${RUNS} hostile requests per route, signed in as an admin (seed ${SEED}): every answer is below 500`,
    async () => {
      const failures: string[] = [];
      for (const [index, route] of routes.entries()) {
        const result = await fc.check(
          fc.asyncProperty(requestFor(route), async (request) => {
            const response = await send(route, request);
            await recover(response);
            if (response.status >= 500) throw new Error(`${response.status} ${response.text.slice(0, 200)}`);
          }),
          { numRuns: RUNS, seed: SEED + index },
        );
        if (result.failed) failures.push(`${route.method} ${route.path}: ${result.errorInstance} ← ${fc.stringify(result.counterexample)}`);
      }
      expect(failures).toEqual([]);
    },
    TIMEOUT_MS,
  );
});
