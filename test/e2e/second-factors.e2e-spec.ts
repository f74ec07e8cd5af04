import { newAgent, signIn } from '../helpers/agents';
import { useTestApp } from '../helpers/test-app';
import { createUser } from '../helpers/users';

describe('second factors', () => {
  const ctx = useTestApp({ db: 'second_factors' });

  describe('how a session was proven (amr)', () => {
    it('says a password sign-in was proven by the password, in /me, the device list and the admin list', async () => {
      const before = Date.now();
      const user = await createUser(ctx.app);
      const agent = await signIn(ctx.app, user);
      const { amr } = (await agent.get('/api/auth/me').expect(200)).body.session;
      expect(amr).toEqual([{ method: 'pwd', at: expect.any(String) }]);
      expect(Date.parse(amr[0].at)).toBeGreaterThanOrEqual(before - 1000);

      const devices = (await agent.get('/api/sessions').expect(200)).body;
      expect(devices.items).toEqual([expect.objectContaining({ current: true, amr })]);

      const admin = await createUser(ctx.app, { role: 'admin' });
      const adminAgent = await signIn(ctx.app, admin, newAgent(ctx.app));
      const sessions = (await adminAgent.get(`/api/admin/sessions?userId=${user.id}`).expect(200)).body;
      expect(sessions.items).toEqual([expect.objectContaining({ userId: user.id, amr })]);
    });
  });
});
