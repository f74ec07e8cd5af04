import type { NestExpressApplication } from '@nestjs/platform-express';
import { sign } from 'cookie-signature';
import { newAgent, sentCookie, signIn } from '../helpers/agents';
import { connectionOf, createTestApp, destroyTestApp, TEST_SESSION_SECRET, uniqueDatabaseName } from '../helpers/test-app';
import { createUser, TestUser } from '../helpers/users';

const OLD_SECRET = TEST_SESSION_SECRET;
const NEW_SECRET = 'rotated-secret-abcdefghijklmnopqrstuvwxyz-0123';

function cookieFor(token: string, secret: string): string {
  return `session_token=${encodeURIComponent(`s:${sign(token, secret)}`)}`;
}

describe('session tokens and secrets', () => {
  const db = uniqueDatabaseName('secrets');
  let oldApp: NestExpressApplication;
  let rotatedApp: NestExpressApplication;
  let newOnlyApp: NestExpressApplication;
  let user: TestUser;

  beforeAll(async () => {
    oldApp = await createTestApp({ db });
    rotatedApp = await createTestApp({ db, env: { SESSION_SECRET: `${NEW_SECRET},${OLD_SECRET}` } });
    newOnlyApp = await createTestApp({ db, env: { SESSION_SECRET: NEW_SECRET } });
    user = await createUser(oldApp);
  });
  afterAll(async () => {
    await rotatedApp.close();
    await newOnlyApp.close();
    await destroyTestApp(oldApp);
  });

  it('cannot be replayed from a copy of the database, even by someone holding the signing secret', async () => {
    const agent = await signIn(oldApp, user);
    await agent.get('/api/auth/me').expect(200);
    const stored = await connectionOf(oldApp).collection('sessions').find({ 'session.userId': user.id }).toArray();
    expect(stored.length).toBeGreaterThan(0);
    for (const document of stored) {
      const response = await newAgent(oldApp)
        .get('/api/auth/me')
        .set('Cookie', cookieFor(String(document._id), OLD_SECRET));
      expect(response.status).toBe(401);
      expect(response.body.error.code).toBe('AUTH_1003');
    }
  });

  it('keeps sessions signed with the old secret valid after rotation, and signs new ones with the new secret', async () => {
    const before = await signIn(oldApp, user);
    const oldCookie = sentCookie(await before.get('/api/auth/me').expect(200), 'session_token');
    await newAgent(rotatedApp).get('/api/auth/me').set('Cookie', oldCookie).expect(200);

    const after = await signIn(rotatedApp, user);
    const newCookie = sentCookie(await after.get('/api/auth/me').expect(200), 'session_token');
    await newAgent(newOnlyApp).get('/api/auth/me').set('Cookie', newCookie).expect(200);
    const retired = await newAgent(newOnlyApp).get('/api/auth/me').set('Cookie', oldCookie).expect(401);
    expect(retired.body.error.code).toBe('AUTH_1003');
  });
});
