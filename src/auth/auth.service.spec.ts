import { connectionOf, useTestApp } from '../../test/helpers/test-app';
import { createUser, TestUser } from '../../test/helpers/users';
import { RequestContext } from '../common/context/request-context';
import { AppException } from '../common/errors/app.exception';
import { SessionsRepository } from '../sessions/sessions.repository';
import { AuthService } from './auth.service';

/** No HTTP here: the service is called as a job or the CLI would, on a real database. */
describe('AuthService', () => {
  let sut: AuthService;
  let user: TestUser;

  const ctx = useTestApp({ db: 'auth_service', env: { LOGIN_MAX_FAILURES: '2' } });
  beforeAll(async () => {
    sut = ctx.app.get(AuthService);
    user = await createUser(ctx.app);
  });

  const failures = () => connectionOf(ctx.app).collection('session_events').find({ type: 'login.failed' }).toArray();

  it('authenticates outside any request and returns only the public fields and the credential stamp', async () => {
    expect(await sut.authenticate(user.email, user.password)).toEqual({
      id: user.id,
      email: user.email,
      name: '',
      role: 'user',
      stamp: expect.stringMatching(/^[\w-]{16}$/),
    });
  });

  it('refuses a wrong password with AUTH_1001 and records the client facts of the surrounding context', async () => {
    const client = { correlationId: 'job-42', ip: '203.0.113.77', userAgent: 'nightly-check' };
    await expect(RequestContext.run(client, () => sut.authenticate(user.email, 'not the password'))).rejects.toMatchObject({
      code: 'AUTH_1001',
    });
    expect((await failures()).at(-1)).toMatchObject({ userId: user.id, ...client, reason: 'invalid_credentials' });
  });

  it('locks after the configured failures and says so with AUTH_1006 and Retry-After', async () => {
    const other = await createUser(ctx.app);
    for (let i = 0; i < 2; i++) await expect(sut.authenticate(other.email, 'wrong')).rejects.toMatchObject({ code: 'AUTH_1001' });
    const locked = await sut.authenticate(other.email, other.password).catch((error: AppException) => error);
    expect(locked).toMatchObject({ code: 'AUTH_1006' });
    expect(Number((locked as AppException).headers['Retry-After'])).toBeGreaterThan(0);
  });

  it('changes a password, keeping the named session and ending the others', async () => {
    const owner = await createUser(ctx.app);
    const repository = ctx.app.get(SessionsRepository);
    const [kept, ended] = ['a', 'b'].map((digit) => digit.repeat(64));
    const before = await sut.authenticate(owner.email, owner.password);
    const now = new Date();
    for (const id of [kept, ended]) {
      await repository.insert({
        _id: id,
        session: { userId: owner.id, stamp: before.stamp, createdAt: now, lastActivityAt: now, ip: '', userAgent: '', cookie: {} } as never,
      });
    }

    const issuedUnder = jest.fn(async () => undefined);
    const movesTo = jest.fn(async () => undefined);
    const lost = jest.fn(async (): Promise<never> => {
      throw new Error('the change lost');
    });
    const changed = await sut.changePassword(
      { id: owner.id, email: owner.email, name: '', role: 'user' },
      owner.password,
      'an entirely new passphrase',
      { id: kept, issuedUnder, movesTo, lost },
    );

    expect(issuedUnder).toHaveBeenCalledWith(before.stamp);
    expect(movesTo).toHaveBeenCalledWith(before.stamp, changed.stamp);
    expect(lost).not.toHaveBeenCalled();
    expect(changed.stamp).not.toBe(before.stamp);
    expect(await repository.findById(kept)).not.toBeNull();
    expect(await repository.findById(ended)).toBeNull();
    await expect(sut.authenticate(owner.email, 'an entirely new passphrase')).resolves.toMatchObject({
      id: owner.id,
      stamp: changed.stamp,
    });
  });
});
