import { BODY_MAX_DEPTH } from '../../src/bootstrap';
import { csrfToken, newAgent, signIn } from '../helpers/agents';
import { formCsrfToken } from '../helpers/forms';
import { useTestApp } from '../helpers/test-app';
import { createUser } from '../helpers/users';

/** The attack from issue 17: about 6 KB of JSON, 3,000 levels deep. */
const ATTACK_DEPTH = 3_000;
const BURST = 20;
const TOO_DEEP = { body: `must not nest deeper than ${BODY_MAX_DEPTH} levels` };

/** `{"email": [[…"x"…]], "password": "…"}` with `levels` levels in all (the top object is level 1). */
function loginNestedTo(levels: number): string {
  const arrays = levels - 1;
  return `{"email":${'['.repeat(arrays)}"x"${']'.repeat(arrays)},"password":"pw"}`;
}

const deepArrays = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
const deepObjects = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
const bracketedKey = (name: string, levels: number) => `${name}${'[a]'.repeat(levels)}`;

describe('parser limits', () => {
  const ctx = useTestApp({ db: 'parser_limits' });

  async function anonymousPost(path: string, type: string, body: string | Buffer) {
    const agent = newAgent(ctx.app);
    const token = await csrfToken(agent);
    // As is: supertest would otherwise serialize a Buffer sent as JSON into `{"type":"Buffer",…}`.
    return agent
      .post(path)
      .set('X-CSRF-Token', token)
      .set('Content-Type', type)
      .serialize((raw) => raw)
      .send(body);
  }

  describe('JSON bodies', () => {
    it.each([
      ['arrays', deepArrays(ATTACK_DEPTH)],
      ['objects', deepObjects(ATTACK_DEPTH)],
      ['a field', `{"email":${deepArrays(ATTACK_DEPTH)},"password":"pw"}`],
    ])('nested %s 3,000 deep, without signing in: 400 VAL_2001', async (_shape, body) => {
      const response = await anonymousPost('/api/auth/login', 'application/json', body);
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'VAL_2001', details: { fields: TOO_DEEP } });
    });

    it('a burst of 20 deep bodies at once: every one 400 VAL_2001, and the service stays live', async () => {
      const prepared = await Promise.all(
        Array.from({ length: BURST }, async () => {
          const agent = newAgent(ctx.app);
          return { agent, token: await csrfToken(agent) };
        }),
      );
      const responses = await Promise.all(
        prepared.map(({ agent, token }) =>
          agent.post('/api/auth/login').set('X-CSRF-Token', token).set('Content-Type', 'application/json').send(deepArrays(ATTACK_DEPTH)),
        ),
      );
      expect(responses.map((response) => `${response.status} ${response.body.error?.code}`)).toEqual(Array(BURST).fill('400 VAL_2001'));
      await newAgent(ctx.app).get('/health/live').expect(200);
    });

    it('the deepest body the size limit allows (100 kB of brackets): 400 VAL_2001', async () => {
      const response = await anonymousPost('/api/auth/login', 'application/json', deepArrays(50_000));
      expect(response.status).toBe(400);
      expect(response.body.error.details).toEqual({ fields: TOO_DEEP });
    });

    it('is refused for its depth before it is parsed: an unterminated body 3,000 deep gets the depth answer, not a parse error', async () => {
      const response = await anonymousPost('/api/auth/login', 'application/json', '['.repeat(ATTACK_DEPTH));
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'VAL_2001', details: { fields: TOO_DEEP } });
    });

    it('brackets inside strings do not count: a sign-in whose fields are full of them is an ordinary failed sign-in', async () => {
      const brackets = `\\"${'[{'.repeat(BODY_MAX_DEPTH)}`;
      const response = await anonymousPost('/api/auth/login', 'application/json', `{"email":"a@b.c","password":"${brackets}"}`);
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe('AUTH_1001');
    });

    it('the same body in UTF-16: 400 VAL_2001', async () => {
      const body = Buffer.from(`\ufeff${deepArrays(ATTACK_DEPTH)}`, 'utf16le');
      const response = await anonymousPost('/api/auth/login', 'application/json; charset=utf-16le', body);
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'VAL_2001', details: { fields: TOO_DEEP } });
    });

    it('on a signed-in route: 400 VAL_2001, and the session lives on', async () => {
      const agent = await signIn(ctx.app, await createUser(ctx.app));
      const token = await csrfToken(agent);
      const response = await agent
        .post('/api/auth/password')
        .set('X-CSRF-Token', token)
        .set('Content-Type', 'application/json')
        .send(`{"currentPassword":"x","newPassword":${deepObjects(ATTACK_DEPTH)}}`);
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'VAL_2001', details: { fields: TOO_DEEP } });
      await agent.get('/api/auth/me').expect(200);
    });

    it(`a body exactly ${BODY_MAX_DEPTH} levels deep passes the parser and meets the validator; one level more does not`, async () => {
      const atLimit = await anonymousPost('/api/auth/login', 'application/json', loginNestedTo(BODY_MAX_DEPTH));
      expect(atLimit.status).toBe(400);
      expect(Object.keys(atLimit.body.error.details.fields)).toEqual(['email']);

      const beyond = await anonymousPost('/api/auth/login', 'application/json', loginNestedTo(BODY_MAX_DEPTH + 1));
      expect(beyond.status).toBe(400);
      expect(beyond.body.error.details).toEqual({ fields: TOO_DEEP });
    });

    it('an ordinary sign-in still works', async () => {
      const user = await createUser(ctx.app);
      await signIn(ctx.app, user);
    });
  });

  describe('forms and query strings do not nest', () => {
    it('a form field bracketed 3,000 deep on the JSON API: 400 VAL_2001 naming the flat key', async () => {
      const key = bracketedKey('email', ATTACK_DEPTH);
      const response = await anonymousPost('/api/auth/login', 'application/x-www-form-urlencoded', `${key}=x&password=pw`);
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('VAL_2001');
      expect(Object.keys(response.body.error.details.fields)).toContain(key);
    });

    it('a form field bracketed 3,000 deep on the sign-in page: 400 with VAL_2001', async () => {
      const agent = newAgent(ctx.app);
      const token = formCsrfToken((await agent.get('/login').expect(200)).text);
      const response = await agent
        .post('/login')
        .type('form')
        .send(`${bracketedKey('email', ATTACK_DEPTH)}=x&password=pw&_csrf=${encodeURIComponent(token)}`);
      expect(response.status).toBe(400);
      expect(response.text).toContain('VAL_2001');
    });

    it('a query parameter bracketed 3,000 deep on a signed-in route: 400 VAL_2001 naming the flat key', async () => {
      const agent = await signIn(ctx.app, await createUser(ctx.app));
      const key = bracketedKey('page', ATTACK_DEPTH);
      const response = await agent.get(`/api/sessions?${key}=1`);
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('VAL_2001');
      expect(Object.keys(response.body.error.details.fields)).toEqual([key]);
    });

    it('a query parameter bracketed 3,000 deep without signing in: the sign-in page, untouched', async () => {
      const response = await newAgent(ctx.app).get(`/login?${bracketedKey('next', ATTACK_DEPTH)}=%2Fadmin`);
      expect(response.status).toBe(200);
      expect(response.text).toContain('name="_csrf"');
    });
  });
});
