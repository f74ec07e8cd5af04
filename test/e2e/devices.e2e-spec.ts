import type { NestExpressApplication } from '@nestjs/platform-express';
import { Agent, csrfToken, newAgent, sentCookie, signIn, tokenOf } from '../helpers/agents';
import { formCsrfToken } from '../helpers/forms';
import { useTestApp } from '../helpers/test-app';
import { createUser, TestUser } from '../helpers/users';
import { sessionStorageId } from '../../src/sessions/session-id';

const FIREFOX = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

async function signInAs(app: NestExpressApplication, user: TestUser, userAgent: string): Promise<Agent> {
  return signIn(app, user, newAgent(app).set('User-Agent', userAgent));
}

async function mySessions(agent: Agent) {
  return (await agent.get('/api/sessions').expect(200)).body;
}

describe('my sessions (devices)', () => {
  const ctx = useTestApp({ db: 'devices' });

  it('lists every active session with browser, OS, IP and times, marking this one', async () => {
    const user = await createUser(ctx.app);
    const laptop = await signInAs(ctx.app, user, FIREFOX);
    await signInAs(ctx.app, user, IPHONE);
    const list = await mySessions(laptop);
    expect(list).toMatchObject({ total: 2, page: 1, pageSize: 20 });
    const current = list.items.find((item: { current: boolean }) => item.current);
    expect(current).toMatchObject({ browser: 'Firefox 128', os: 'Windows 10', ip: expect.any(String) });
    expect(list.items.find((item: { current: boolean }) => !item.current)).toMatchObject({ browser: 'Mobile Safari 17', os: 'iOS 17.5' });
    for (const item of list.items) {
      expect(Object.keys(item).sort()).toEqual(['amr', 'browser', 'createdAt', 'current', 'id', 'ip', 'lastActivityAt', 'os']);
    }
  });

  it('shows ids that are not tokens: the id of this session is a hash of its cookie token', async () => {
    const user = await createUser(ctx.app);
    const agent = await signIn(ctx.app, user);
    const token = tokenOf(sentCookie(await agent.get('/api/auth/me'), 'session_token'));
    const [item] = (await mySessions(agent)).items;
    expect(item.id).toBe(sessionStorageId(token));
    expect(item.id).not.toContain(token);
  });

  it('ends one other session: its cookie gets AUTH_1003 at once', async () => {
    const user = await createUser(ctx.app);
    const laptop = await signInAs(ctx.app, user, FIREFOX);
    const phone = await signInAs(ctx.app, user, IPHONE);
    const other = (await mySessions(laptop)).items.find((item: { current: boolean }) => !item.current);
    const token = await csrfToken(laptop);
    await laptop.delete(`/api/sessions/${other.id}`).set('X-CSRF-Token', token).expect(204);
    expect((await phone.get('/api/auth/me').expect(401)).body.error.code).toBe('AUTH_1003');
    expect((await mySessions(laptop)).total).toBe(1);
  });

  it('ends all other sessions and keeps this one', async () => {
    const user = await createUser(ctx.app);
    const keep = await signIn(ctx.app, user);
    const others = [await signIn(ctx.app, user), await signIn(ctx.app, user)];
    const token = await csrfToken(keep);
    await keep.delete('/api/sessions').set('X-CSRF-Token', token).expect(204);
    for (const agent of others) await agent.get('/api/auth/me').expect(401);
    await keep.get('/api/auth/me').expect(200);
  });

  it('answers 404 for another user’s session id and leaves it alone', async () => {
    const alice = await signIn(ctx.app, await createUser(ctx.app));
    const bob = await signIn(ctx.app, await createUser(ctx.app));
    const bobsId = (await mySessions(bob)).items[0].id;
    const token = await csrfToken(alice);
    const response = await alice.delete(`/api/sessions/${bobsId}`).set('X-CSRF-Token', token).expect(404);
    expect(response.body.error.code).toBe('RES_3001');
    await bob.get('/api/auth/me').expect(200);
    expect((await mySessions(alice)).items.map((item: { id: string }) => item.id)).not.toContain(bobsId);
  });

  it('refuses malformed ids with VAL_2001', async () => {
    const agent = await signIn(ctx.app, await createUser(ctx.app));
    const token = await csrfToken(agent);
    for (const id of ['not-an-id', '0'.repeat(63), `${'g'.repeat(64)}`, '%24gt']) {
      const response = await agent.delete(`/api/sessions/${id}`).set('X-CSRF-Token', token);
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('VAL_2001');
    }
  });

  it('bounds pages: at most 100 items, and pageSize above 100 is refused', async () => {
    const user = await createUser(ctx.app);
    const agent = await signIn(ctx.app, user);
    for (let i = 0; i < 4; i++) await signIn(ctx.app, user);
    const page = (await agent.get('/api/sessions?page=2&pageSize=2').expect(200)).body;
    expect(page).toMatchObject({ total: 5, page: 2, pageSize: 2 });
    expect(page.items).toHaveLength(2);
    expect((await agent.get('/api/sessions?pageSize=101').expect(400)).body.error.code).toBe('VAL_2001');
    expect((await agent.get('/api/sessions?page=0').expect(400)).body.error.code).toBe('VAL_2001');
  });

  it('shows the sessions page with "This device" and working end buttons', async () => {
    const user = await createUser(ctx.app);
    const laptop = await signInAs(ctx.app, user, FIREFOX);
    const phone = await signInAs(ctx.app, user, IPHONE);
    const page = await laptop.get('/account/sessions').expect(200);
    expect(page.text).toContain('This device');
    expect(page.text).toContain('Firefox 128 on Windows 10');
    expect(page.text).toContain('Mobile Safari 17 on iOS 17.5');
    const ended = await laptop
      .post('/account/sessions/end-others')
      .type('form')
      .send({ _csrf: formCsrfToken(page.text) })
      .expect(303);
    expect(ended.headers.location).toBe('/account/sessions');
    await phone.get('/api/auth/me').expect(401);
    const after = await laptop.get('/account/sessions').expect(200);
    expect(after.text).not.toContain('Mobile Safari');
  });
});
