import { newAgent } from '../helpers/agents';
import { submitLoginForm } from '../helpers/forms';
import { useTestApp } from '../helpers/test-app';
import { createUser, TestUser } from '../helpers/users';

/** Where the app itself is, for resolving Location headers as a browser on it would. */
const OUR_ORIGIN = 'http://app.test';

/** `next` values that try to leave the site once a browser resolves the answer. */
const OFF_SITE = [
  '//evil.example',
  '///evil.example',
  '////evil.example',
  'https://evil.example',
  'http:evil.example',
  'https:/evil.example',
  '/.//evil.example',
  '/..//evil.example',
  '/./..//evil.example',
  '/a/..//evil.example',
  '/a/b/../..//evil.example',
  '/%2e//evil.example',
  '/%2E//evil.example',
  '/%2e%2e//evil.example',
  '/%2e/%2e%2e//evil.example',
  '/.%2e//evil.example',
  '/\\evil.example',
  '/\\/evil.example',
  '\\\\evil.example',
  '/.\\/evil.example',
  '/\t/evil.example',
  '/\n/evil.example',
  '/\r/evil.example',
  '/\u001f/evil.example',
  ' //evil.example',
  '//evil.example/%2e%2e',
  'javascript:alert(1)',
  'data:text/html,hi',
  '//evil.example@app.test',
  '/login',
  '/logout',
];

/** Same-site paths that must survive, normalised. */
const ON_SITE: [next: string, expected: string][] = [
  ['/account/sessions', '/account/sessions'],
  ['/admin/./users?q=a#top', '/admin/users?q=a#top'],
  ['/a/../account/sessions', '/account/sessions'],
  ['/%2F%2Fevil.example', '/%2F%2Fevil.example'],
];

describe('post-sign-in redirect targets, judged as a browser resolves them', () => {
  let user: TestUser;
  const ctx = useTestApp({ db: 'redirects', env: { LOGIN_MAX_FAILURES_PER_IP: '1000' } });
  beforeAll(async () => {
    user = await createUser(ctx.app);
  });

  async function locationAfterSignIn(next: string): Promise<URL> {
    const response = await submitLoginForm(newAgent(ctx.app), { email: user.email, password: user.password, next });
    expect(response.status).toBe(303);
    return new URL(response.headers.location, OUR_ORIGIN);
  }

  it(`sends each of ${OFF_SITE.length} off-site payloads to /dashboard on our own origin`, async () => {
    const escaped: string[] = [];
    for (const next of OFF_SITE) {
      const target = await locationAfterSignIn(next);
      if (target.origin !== OUR_ORIGIN || target.pathname !== '/dashboard') escaped.push(`${JSON.stringify(next)} → ${target.href}`);
    }
    expect(escaped).toEqual([]);
  });

  it('refuses a next holding a NUL as any input the database would refuse: 400 VAL_2001, no redirect', async () => {
    const response = await submitLoginForm(newAgent(ctx.app), { email: user.email, password: user.password, next: '/\u0000/evil.example' });
    expect(response.status).toBe(400);
    expect(response.headers.location).toBeUndefined();
    expect(response.text).toContain('VAL_2001');
    expect(response.text).not.toContain('evil.example');
  });

  it.each(ON_SITE)('keeps the same-site path %j as %s', async (next, expected) => {
    const target = await locationAfterSignIn(next);
    expect(target.origin).toBe(OUR_ORIGIN);
    expect(`${target.pathname}${target.search}${target.hash}`).toBe(expected);
  });
});
