import { buildConfiguration } from './configuration';
import { EnvironmentError, validateEnvironment } from './environment';

const PRODUCTION_SECRET = 'k3J9x1QpL0vW7zR4mN8bT2yH6cF5dG0s';
const PRODUCTION_URL = 'https://sessions.example.com';

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    validateEnvironment(env);
    return [];
  } catch (error) {
    return (error as EnvironmentError).problems;
  }
}

describe('validateEnvironment', () => {
  it('applies the documented defaults', () => {
    const config = buildConfiguration(validateEnvironment({}));
    expect(config.http).toEqual({ port: 3000, trustProxy: false, corsOrigins: [], shutdownDrainMs: 10_000, apiDocs: true });
    expect(config.session).toMatchObject({
      cookieName: 'session_token',
      cookieSecure: false,
      inactivityMs: 900_000,
      absoluteMs: 9_600_000,
    });
    expect(config.security).toMatchObject({ loginMaxFailures: 5, loginMaxFailuresPerIp: 50, loginLockMs: 900_000 });
  });

  it.each([
    [{}, 'session_token'],
    [{ COOKIE_SECURE: 'true' }, '__Host-session_token'],
    [{ COOKIE_SECURE: 'true', SESSION_COOKIE_NAME: 'sid' }, '__Host-sid'],
    [{ COOKIE_SECURE: 'false', SESSION_COOKIE_NAME: 'sid' }, 'sid'],
    [
      { NODE_ENV: 'production', MONGODB_URI: 'mongodb://db/x', SESSION_SECRET: PRODUCTION_SECRET, PUBLIC_URL: PRODUCTION_URL },
      '__Host-session_token',
    ],
  ])('names the session cookie for %j: %s', (env, name) => {
    expect(buildConfiguration(validateEnvironment(env)).session.cookieName).toBe(name);
  });

  it.each(['__Host-sid', '__Secure-sid', '__host-sid', '__SECURE-sid'])(
    'refuses SESSION_COOKIE_NAME=%s: the app adds __Host- itself',
    (name) => {
      expect(problemsOf({ SESSION_COOKIE_NAME: name })).toEqual([
        expect.stringMatching(/^SESSION_COOKIE_NAME: .*without a __Host- or __Secure- prefix/),
      ]);
    },
  );

  it.each(['a;b', 'a b', 'séance', '__Host-a.b'])('refuses SESSION_COOKIE_NAME=%j with one line', (name) => {
    expect(problemsOf({ SESSION_COOKIE_NAME: name })).toEqual([expect.stringMatching(/^SESSION_COOKIE_NAME: may hold letters/)]);
  });

  it('accepts decimal minutes for short test windows', () => {
    expect(buildConfiguration(validateEnvironment({ SESSION_INACTIVITY_MINUTES: '0.05' })).session.inactivityMs).toBe(3_000);
  });

  it('reports one line per bad variable, naming it', () => {
    const problems = problemsOf({ PORT: 'eighty', SESSION_INACTIVITY_MINUTES: '-1', TRUST_PROXY: 'maybe' });
    expect(problems).toHaveLength(3);
    expect(problems.map((line) => line.split(':')[0]).sort()).toEqual(['PORT', 'SESSION_INACTIVITY_MINUTES', 'TRUST_PROXY']);
  });

  it('requires MONGODB_URI and a long SESSION_SECRET in production', () => {
    const problems = problemsOf({ NODE_ENV: 'production' });
    // Each line says what is wrong first: that it is missing, not how long it should be.
    expect(problems).toEqual(
      expect.arrayContaining(['MONGODB_URI: is required when NODE_ENV=production', 'SESSION_SECRET: is required when NODE_ENV=production']),
    );
    expect(
      problemsOf({ NODE_ENV: 'production', MONGODB_URI: 'mongodb://db/x', SESSION_SECRET: 'short', PUBLIC_URL: PRODUCTION_URL }),
    ).toEqual(['SESSION_SECRET: each secret must be at least 32 characters']);
    expect(problemsOf({ PORT: 'http' })).toEqual(['PORT: must be a whole number from 0 to 65535']);
  });

  it('refuses a placeholder secret in production', () => {
    expect(
      problemsOf({
        NODE_ENV: 'production',
        MONGODB_URI: 'mongodb://db/x',
        SESSION_SECRET: 'change-me-change-me-change-me-change-me',
        PUBLIC_URL: PRODUCTION_URL,
      }),
    ).toEqual([expect.stringMatching(/^SESSION_SECRET: looks like a placeholder/)]);
  });

  it.each([
    'my-production-secret-that-is-long-enough',
    'supersecretsupersecretsupersecret!!',
    'PasswordPasswordPasswordPassword11',
    'x'.repeat(40),
  ])('refuses the placeholder-looking secret %s in production', (secret) => {
    expect(
      problemsOf({ NODE_ENV: 'production', MONGODB_URI: 'mongodb://db/x', SESSION_SECRET: secret, PUBLIC_URL: PRODUCTION_URL }),
    ).toEqual([expect.stringMatching(/^SESSION_SECRET: looks like a placeholder/)]);
  });

  it('rotates secrets from a comma list: the first signs', () => {
    const env = validateEnvironment({
      NODE_ENV: 'production',
      MONGODB_URI: 'mongodb://db/x',
      SESSION_SECRET: `${PRODUCTION_SECRET},${PRODUCTION_SECRET}old`,
      PUBLIC_URL: PRODUCTION_URL,
    });
    expect(buildConfiguration(env).session.secrets).toEqual([PRODUCTION_SECRET, `${PRODUCTION_SECRET}old`]);
    expect(buildConfiguration(env).session.cookieSecure).toBe(true);
  });

  it.each([
    ['1', 1],
    ['2', 2],
    ['false', false],
    ['0', false],
    ['loopback', ['loopback']],
    ['10.0.0.0/8, 192.168.1.7,uniquelocal', ['10.0.0.0/8', '192.168.1.7', 'uniquelocal']],
    ['::1', ['::1']],
  ])('reads TRUST_PROXY=%s as %j', (raw, expected) => {
    expect(buildConfiguration(validateEnvironment({ TRUST_PROXY: raw })).http.trustProxy).toEqual(expected);
  });

  it('refuses TRUST_PROXY=true, saying why and what to set instead', () => {
    const [problem] = problemsOf({ TRUST_PROXY: 'true' });
    expect(problem).toMatch(/^TRUST_PROXY: true would trust every X-Forwarded-For entry/);
    expect(problem).toMatch(/choose its own IP/);
    expect(problem).toMatch(/e\.g\. 1/);
  });

  it.each(['yes', '10.0.0.0/33', '1.2.3', 'loopback,nonsense'])('refuses TRUST_PROXY=%s', (raw) => {
    expect(problemsOf({ TRUST_PROXY: raw })).toEqual([expect.stringMatching(/^TRUST_PROXY: ".+" is not a hop count/)]);
  });

  it.each([
    ['development', undefined, true],
    ['development', 'false', false],
    ['production', undefined, false],
    ['production', '', false],
    ['production', 'true', true],
    ['production', 'false', false],
  ])('serves the API docs with NODE_ENV=%s and API_DOCS=%j: %s', (nodeEnv, apiDocs, expected) => {
    const env = validateEnvironment({
      NODE_ENV: nodeEnv,
      MONGODB_URI: 'mongodb://db/x',
      SESSION_SECRET: PRODUCTION_SECRET,
      PUBLIC_URL: PRODUCTION_URL,
      ...(apiDocs !== undefined && { API_DOCS: apiDocs }),
    });
    expect(buildConfiguration(env).http.apiDocs).toBe(expected);
  });

  it.each(['yes', '1', '0', 'TRUE', 'on'])('refuses API_DOCS=%s: only true or false', (raw) => {
    expect(problemsOf({ API_DOCS: raw })).toEqual(['API_DOCS: must be true or false']);
  });

  it('treats an empty value as unset', () => {
    expect(buildConfiguration(validateEnvironment({ PORT: '', METRICS_TOKEN: '' })).http.port).toBe(3000);
  });

  it.each(['UTC', 'Europe/Paris', 'America/Argentina/Buenos_Aires', 'Etc/GMT+5'])('shows admin times in ADMIN_TIME_ZONE=%s', (zone) => {
    expect(buildConfiguration(validateEnvironment({ ADMIN_TIME_ZONE: zone })).admin.timeZone).toBe(zone);
  });

  it('shows admin times in UTC when ADMIN_TIME_ZONE is unset', () => {
    expect(buildConfiguration(validateEnvironment({})).admin.timeZone).toBe('UTC');
  });

  it.each(['Mars/Olympus_Mons', '+01:00', 'CEST and more', 'Europe/'])('refuses ADMIN_TIME_ZONE=%s, naming the variable', (zone) => {
    expect(problemsOf({ ADMIN_TIME_ZONE: zone })).toEqual([expect.stringMatching(/^ADMIN_TIME_ZONE: ".+" is not an IANA time zone name/)]);
  });

  it('takes the site to be http://localhost on PORT outside production, with no role needing a second factor', () => {
    expect(buildConfiguration(validateEnvironment({ PORT: '8080' })).secondFactors).toEqual({
      requiredRoles: [],
      publicOrigin: 'http://localhost:8080',
      relyingPartyId: 'localhost',
    });
  });

  it('requires PUBLIC_URL in production, and https there', () => {
    const production = { NODE_ENV: 'production', MONGODB_URI: 'mongodb://db/x', SESSION_SECRET: PRODUCTION_SECRET };
    expect(problemsOf(production)).toEqual([expect.stringMatching(/^PUBLIC_URL: .*required when NODE_ENV=production/)]);
    expect(problemsOf({ ...production, PUBLIC_URL: 'http://sessions.example.com' })).toEqual([
      'PUBLIC_URL: must start with https:// in production',
    ]);
    expect(
      buildConfiguration(validateEnvironment({ ...production, PUBLIC_URL: 'https://Sessions.Example.com:8443/' })).secondFactors,
    ).toMatchObject({
      publicOrigin: 'https://sessions.example.com:8443',
      relyingPartyId: 'sessions.example.com',
    });
  });

  it.each(['sessions.example.com', 'ftp://example.com', 'https://example.com/app', 'https://example.com/?a=1', 'https://u:p@example.com'])(
    'refuses PUBLIC_URL=%s: an origin only',
    (url) => {
      expect(problemsOf({ PUBLIC_URL: url })).toEqual([expect.stringMatching(/^PUBLIC_URL: /)]);
    },
  );

  it('reads MFA_REQUIRED_ROLES as a comma list of known roles', () => {
    expect(buildConfiguration(validateEnvironment({ MFA_REQUIRED_ROLES: 'admin, user' })).secondFactors.requiredRoles).toEqual([
      'admin',
      'user',
    ]);
    expect(problemsOf({ MFA_REQUIRED_ROLES: 'admin,admins' })).toEqual([
      expect.stringMatching(/^MFA_REQUIRED_ROLES: each role must be one of user, admin/),
    ]);
  });
});
