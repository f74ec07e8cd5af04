import type { NestExpressApplication } from '@nestjs/platform-express';
import { csrfToken, newAgent, signIn } from '../helpers/agents';
import { formCsrfToken } from '../helpers/forms';
import { createTestApp, destroyTestApp, uniqueDatabaseName } from '../helpers/test-app';
import { createUser } from '../helpers/users';

const NEW_PASSWORD = 'a brand new long passphrase';

describe('changing the password', () => {
  let app: NestExpressApplication;
  beforeAll(async () => {
    app = await createTestApp({ db: uniqueDatabaseName('password') });
  });
  afterAll(() => destroyTestApp(app));

  it('ends the user’s other sessions, keeps this one, and only the new password signs in', async () => {
    const user = await createUser(app);
    const here = await signIn(app, user);
    const elsewhere = await signIn(app, user);
    const token = await csrfToken(here);
    await here.post('/api/auth/password').set('X-CSRF-Token', token).send({ currentPassword: user.password, newPassword: NEW_PASSWORD }).expect(204);

    expect((await elsewhere.get('/api/auth/me').expect(401)).body.error.code).toBe('AUTH_1003');
    await here.get('/api/auth/me').expect(200);
    await signIn(app, { email: user.email, password: NEW_PASSWORD });
    const agent = newAgent(app);
    const loginToken = await csrfToken(agent);
    await agent.post('/api/auth/login').set('X-CSRF-Token', loginToken).send({ email: user.email, password: user.password }).expect(401);
  });

  it('refuses a wrong current password (AUTH_1001) and a weak new one (VAL_2001), changing nothing', async () => {
    const user = await createUser(app);
    const agent = await signIn(app, user);
    const other = await signIn(app, user);
    const token = await csrfToken(agent);
    const wrong = await agent.post('/api/auth/password').set('X-CSRF-Token', token).send({ currentPassword: 'not it at all', newPassword: NEW_PASSWORD });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('AUTH_1001');
    const weak = await agent.post('/api/auth/password').set('X-CSRF-Token', token).send({ currentPassword: user.password, newPassword: 'short' });
    expect(weak.status).toBe(400);
    expect(weak.body.error).toMatchObject({ code: 'VAL_2001', details: { fields: { newPassword: expect.any(String) } } });
    await other.get('/api/auth/me').expect(200);
    await signIn(app, user);
  });

  it('works from the account page and reports the outcome there', async () => {
    const user = await createUser(app);
    const agent = await signIn(app, user);
    let page = await agent.get('/account/sessions').expect(200);
    const wrong = await agent
      .post('/account/password')
      .type('form')
      .send({ _csrf: formCsrfToken(page.text), currentPassword: 'nope nope nope', newPassword: NEW_PASSWORD })
      .expect(303);
    expect(wrong.headers.location).toBe('/account/sessions?password=wrong');
    expect((await agent.get(wrong.headers.location).expect(200)).text).toContain('That is not your current password.');

    page = await agent.get('/account/sessions').expect(200);
    const changed = await agent
      .post('/account/password')
      .type('form')
      .send({ _csrf: formCsrfToken(page.text), currentPassword: user.password, newPassword: NEW_PASSWORD })
      .expect(303);
    expect((await agent.get(changed.headers.location).expect(200)).text).toContain('Your password has been changed.');
  });
});
