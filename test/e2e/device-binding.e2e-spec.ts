import type { NestExpressApplication } from '@nestjs/platform-express';
import { Agent, newAgent } from '../helpers/agents';
import { watchCommands } from '../helpers/commands';
import { ANOTHER_DEVICE, BROWSERS, copiedUserAgent, DeviceHeaders, SAME_DEVICE } from '../helpers/devices';
import { connectionOf, useTestApp } from '../helpers/test-app';
import { createUser, TestUser } from '../helpers/users';

const BURST = 8;
/** Node refuses request headers over 16 KB in all: one 10 KB hint, one 1 KB. */
const TEN_KB = 10_000;
const ONE_KB = 1_000;

/** Signs in through the JSON API with these headers on every request, as one browser would send them. */
async function signInWith(app: NestExpressApplication, user: TestUser, headers: DeviceHeaders): Promise<Agent> {
  const agent = newAgent(app);
  const { token } = (await agent.get('/api/auth/csrf').set(headers).expect(200)).body as { token: string };
  await agent
    .post('/api/auth/login')
    .set(headers)
    .set('X-CSRF-Token', token)
    .send({ email: user.email, password: user.password })
    .expect(200);
  return agent;
}

describe('device binding (User-Agent and Client Hints)', () => {
  const events = (filter: Record<string, unknown>) => connectionOf(ctx.app).collection('session_events').find(filter).toArray();
  const storedSession = (user: TestUser) => connectionOf(ctx.app).collection('sessions').findOne({ 'session.userId': user.id });

  const ctx = useTestApp({ db: 'device_binding' });

  describe('one device in another mode keeps its session', () => {
    it.each(SAME_DEVICE)('$name', async ({ signedIn, now }) => {
      const user = await createUser(ctx.app);
      const agent = await signInWith(ctx.app, user, signedIn);
      await agent.get('/api/auth/me').set(now).expect(200);
      await agent.get('/api/auth/me').set(signedIn).expect(200);
      expect(await events({ type: 'session.anomaly', userId: user.id })).toEqual([]);
    });
  });

  describe('another browser or OS ends the session (AUTH_1010)', () => {
    it.each(ANOTHER_DEVICE)('$name', async ({ signedIn, now }) => {
      const user = await createUser(ctx.app);
      const agent = await signInWith(ctx.app, user, signedIn);
      const used = await agent.get('/api/auth/me').set(now);
      expect(used.status).toBe(401);
      expect(used.body.error.code).toBe('AUTH_1010');
      // Ended for good: the owner's own browser cannot bring it back.
      await agent.get('/api/auth/me').set(signedIn).expect(401);
      expect(await events({ type: 'session.anomaly', userId: user.id })).toHaveLength(1);
    });
  });

  it('records both devices, User-Agent family and hints, in the session.anomaly event', async () => {
    const user = await createUser(ctx.app);
    const agent = await signInWith(ctx.app, user, BROWSERS.chromeOnWindows);
    const thief = copiedUserAgent('chromeOnWindows', 'chromeOnAndroid');
    await agent.get('/api/auth/me').set(thief).expect(401);
    const [anomaly] = await events({ type: 'session.anomaly', userId: user.id });
    const chrome = { browser: 'Chrome', os: 'Windows', engine: 'Blink' };
    const brands = ['Chromium', 'Google Chrome'];
    expect(anomaly).toMatchObject({
      reason: 'device_changed',
      signedInUserAgent: BROWSERS.chromeOnWindows['User-Agent'],
      userAgent: BROWSERS.chromeOnWindows['User-Agent'],
      signedInDevice: { ...chrome, hints: { brands, platform: 'Windows', mobile: false } },
      usedDevice: { ...chrome, hints: { brands, platform: 'Android', mobile: true } },
    });
  });

  it('stores no oversized or malformed hint, and judges one later as none: the User-Agent decides', async () => {
    const user = await createUser(ctx.app);
    const forged = {
      'Sec-CH-UA': `"Chromium";v="126", "${'B'.repeat(TEN_KB)}";v="1"`,
      'Sec-CH-UA-Platform': `"${'Android'.repeat(ONE_KB / 7)}"`,
      'Sec-CH-UA-Mobile': '?1',
    };
    const agent = await signInWith(ctx.app, user, { ...BROWSERS.chromeOnAndroid, ...forged });
    expect((await storedSession(user))?.session.device).toEqual({
      browser: 'Chrome',
      os: 'Android',
      engine: 'Blink',
      hints: { mobile: true },
    });

    const unbalanced = { 'Sec-CH-UA': '"Google Chrome;v="126", "Chromium";v="126"', 'Sec-CH-UA-Platform': '"Android' };
    await agent
      .get('/api/auth/me')
      .set({ ...BROWSERS.chromeOnAndroid, ...unbalanced })
      .expect(200);
    // Without hints to confirm the platform, a desktop User-Agent is another OS.
    await agent
      .get('/api/auth/me')
      .set({ ...BROWSERS.chromeOnAndroidDesktopSite, ...forged })
      .expect(401);
    const [anomaly] = await events({ type: 'session.anomaly', userId: user.id });
    expect(JSON.stringify([anomaly.signedInDevice, anomaly.usedDevice]).length).toBeLessThan(200);
  });

  it('keeps a session whose toggles arrive in parallel, and ends one a thief uses in parallel exactly once', async () => {
    const user = await createUser(ctx.app);
    const agent = await signInWith(ctx.app, user, BROWSERS.chromeOnAndroid);
    const modes = [BROWSERS.chromeOnAndroid, BROWSERS.chromeOnAndroidDesktopSite];
    const commands = watchCommands(ctx.app);
    const toggles = await Promise.all(Array.from({ length: BURST }, (_, i) => agent.get('/api/auth/me').set(modes[i % 2])));
    commands.stop();
    expect(toggles.map((response) => response.status)).toEqual(Array(BURST).fill(200));
    // Judged from the headers and the session alone: no read of the user or anything else.
    expect(commands.seen().filter((command) => !['find sessions', 'update sessions'].includes(command))).toEqual([]);

    const thief = copiedUserAgent('chromeOnAndroid', 'chromeOnLinux');
    const stolen = await Promise.all(Array.from({ length: BURST }, () => agent.get('/api/auth/me').set(thief)));
    // Those that read the session before it ended say why; any that read it after find none.
    for (const response of stolen) {
      expect(response.status).toBe(401);
      expect(['AUTH_1010', 'AUTH_1003']).toContain(response.body.error.code);
    }
    expect(stolen.some((response) => response.body.error.code === 'AUTH_1010')).toBe(true);
    await agent.get('/api/auth/me').set(BROWSERS.chromeOnAndroid).expect(401);
    expect(await events({ type: 'session.anomaly', userId: user.id })).toHaveLength(1);
  });
});
