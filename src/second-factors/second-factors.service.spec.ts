import { Secret, TOTP } from 'otpauth';
import { AppException } from '../common/errors/app.exception';
import { useTestApp } from '../../test/helpers/test-app';
import { createUser } from '../../test/helpers/users';
import { UsersService } from '../users/users.service';
import { SecondFactorsService } from './second-factors.service';

const STEP_MS = 30_000;

function appCode(secret: string, at: number): string {
  return new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: at });
}

/** On a real database, no HTTP: enrolment, codes spent once, one account's factor and codes never another's. */
describe('SecondFactorsService', () => {
  let sut: SecondFactorsService;
  const ctx = useTestApp({ db: 'second_factors_service' });
  beforeAll(() => {
    sut = ctx.app.get(SecondFactorsService);
  });

  /** A real account: adding a factor marks it (UserDocument.secondFactors). */
  const newUser = async () => {
    const { id, email } = await createUser(ctx.app);
    return { id, email };
  };

  /** An account with a confirmed TOTP factor; its secret, the step used to confirm it and its recovery codes. */
  async function enrolled(at = Date.now()) {
    const user = await newUser();
    const { id, secret } = await sut.startTotp(user);
    const checked = await sut.checkTotpEnrolment(user.id, id, appCode(secret, at), at);
    const { factor, recoveryCodes } = await sut.confirmTotp(user.id, checked!);
    return { user, secret, factor, recoveryCodes };
  }

  it('counts a factor only once confirmed by a valid code, and then offers totp and recovery', async () => {
    const user = await newUser();
    const { id, secret } = await sut.startTotp(user);
    expect(await sut.methodsFor(user.id)).toEqual([]);
    const now = Date.now();
    expect(await sut.checkTotpEnrolment(user.id, id, appCode(secret, now + 3 * STEP_MS), now)).toBeUndefined();
    const checked = await sut.checkTotpEnrolment(user.id, id, appCode(secret, now), now);
    const { factor, recoveryCodes } = await sut.confirmTotp(user.id, checked!);
    expect(factor).toMatchObject({ id, type: 'totp', confirmedAt: expect.any(String) });
    expect(recoveryCodes).toHaveLength(10);
    expect(await sut.methodsFor(user.id)).toEqual(['totp', 'recovery']);
    expect(await sut.list(user.id)).toEqual([factor]);
  });

  it('accepts a code once, and of parallel requests with the same code exactly one', async () => {
    const at = Date.now() + STEP_MS;
    const { user, secret } = await enrolled(at - STEP_MS);
    const code = appCode(secret, at);
    const results = await Promise.all(Array.from({ length: 5 }, () => sut.verifyTotp(user.id, code, at)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await sut.verifyTotp(user.id, code, at)).toBe(false);
  });

  it('refuses the code that confirmed the factor, and one older than it', async () => {
    const at = Date.now();
    const { user, secret } = await enrolled(at);
    expect(await sut.verifyTotp(user.id, appCode(secret, at), at)).toBe(false);
    expect(await sut.verifyTotp(user.id, appCode(secret, at - STEP_MS), at)).toBe(false);
    expect(await sut.verifyTotp(user.id, appCode(secret, at + STEP_MS), at)).toBe(true);
  });

  it('does not take one user’s code, factor or recovery code for another’s', async () => {
    const at = Date.now();
    const owner = await enrolled(at);
    const other = await enrolled(at);
    expect(await sut.verifyTotp(other.user.id, appCode(owner.secret, at + STEP_MS), at)).toBe(false);
    expect(await sut.useRecoveryCode(other.user.id, owner.recoveryCodes[0])).toBeUndefined();
    await expect(sut.remove(other.user.id, owner.factor.id)).rejects.toMatchObject({ code: 'RES_3001' });
    expect(await sut.list(owner.user.id)).toHaveLength(1);
  });

  it('spends each recovery code once and says how many are left', async () => {
    const { user, recoveryCodes } = await enrolled();
    const [first, second] = recoveryCodes;
    const twice = await Promise.all([sut.useRecoveryCode(user.id, first), sut.useRecoveryCode(user.id, first)]);
    expect(twice.filter(Boolean)).toEqual([{ left: 9 }]);
    expect(await sut.useRecoveryCode(user.id, second.toUpperCase().replace('-', ' '))).toEqual({ left: 8 });
  });

  it('replaces the recovery codes on regeneration, and drops them with the last factor', async () => {
    const { user, factor, recoveryCodes } = await enrolled();
    const fresh = await sut.regenerateRecoveryCodes(user.id);
    expect(await sut.useRecoveryCode(user.id, recoveryCodes[0])).toBeUndefined();
    expect(await sut.recoveryCodesLeft(user.id)).toBe(10);
    await sut.remove(user.id, factor.id);
    expect(await sut.methodsFor(user.id)).toEqual([]);
    expect(await sut.useRecoveryCode(user.id, fresh[0])).toBeUndefined();
  });

  it('refuses to confirm an enrolment twice or someone else’s', async () => {
    const user = await newUser();
    const { id, secret } = await sut.startTotp(user);
    const at = Date.now();
    const checked = await sut.checkTotpEnrolment(user.id, id, appCode(secret, at), at);
    const results = await Promise.allSettled([sut.confirmTotp(user.id, checked!), sut.confirmTotp(user.id, checked!)]);
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    expect(results.find((result) => result.status === 'rejected')).toMatchObject({ reason: expect.any(AppException) });
    await expect(sut.checkTotpEnrolment((await newUser()).id, id, appCode(secret, at), at)).rejects.toMatchObject({ code: 'RES_3001' });
  });

  it('marks the account before a factor is added, and clears the mark only when none is left and none was added since', async () => {
    const { user, factor } = await enrolled();
    const users = ctx.app.get(UsersService);
    const marked = async () => (await users.findByEmailWithPasswordHash(user.email))!.secondFactors;
    expect(await marked()).toBe(true);
    const version = await users.secondFactorsVersion(user.id);
    await sut.beforeAdding(user.id);
    await users.clearSecondFactors(user.id, version);
    expect(await marked()).toBe(true);
    await sut.remove(user.id, factor.id);
    expect(await marked()).toBe(false);
  });
});
