import { SoftwareAuthenticator } from '../../test/helpers/software-authenticator';
import { useTestApp } from '../../test/helpers/test-app';
import { createUser } from '../../test/helpers/users';
import { WEBAUTHN_CHALLENGE_TTL_MS } from './second-factor.constants';
import { PasskeyRefused, PasskeysService } from './passkeys.service';
import { SecondFactorsService } from './second-factors.service';

const ORIGIN = 'https://sessions.example.test';

/** On a real database, no HTTP: what a passkey answer must be to count, checked with a software authenticator. */
describe('PasskeysService', () => {
  let sut: PasskeysService;
  let factors: SecondFactorsService;
  const ctx = useTestApp({ db: 'passkeys_service', env: { PUBLIC_URL: ORIGIN } });
  beforeAll(() => {
    sut = ctx.app.get(PasskeysService);
    factors = ctx.app.get(SecondFactorsService);
  });

  /** A real account: adding a factor marks it (UserDocument.secondFactors). */
  const newUser = async () => {
    const name = 'Passkey User';
    const { id, email } = await createUser(ctx.app, { name });
    return { id, email, name };
  };

  async function registered(options: { userVerified?: boolean; counts?: boolean } = {}) {
    const user = await newUser();
    const authenticator = new SoftwareAuthenticator({ origin: ORIGIN, ...options });
    const response = authenticator.register(await sut.registrationOptions(user));
    const { factor, recoveryCodes } = await sut.confirmRegistration(user.id, await sut.checkRegistration(user.id, 'Laptop', response));
    return { user, authenticator, factor, recoveryCodes };
  }

  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => 'accepted',
      (error: unknown) => (error instanceof PasskeyRefused ? error.reason : error),
    );

  it('registers a discoverable passkey for PUBLIC_URL’s host, which then counts as a factor', async () => {
    const user = await newUser();
    const options = await sut.registrationOptions(user);
    expect(options.rp).toEqual({ id: 'sessions.example.test', name: expect.any(String) });
    expect(options.authenticatorSelection).toMatchObject({ residentKey: 'required', userVerification: 'preferred' });
    const authenticator = new SoftwareAuthenticator({ origin: ORIGIN });
    const checked = await sut.checkRegistration(user.id, 'Laptop', authenticator.register(options));
    expect(await factors.methodsFor(user.id)).toEqual([]);
    const { factor, recoveryCodes } = await sut.confirmRegistration(user.id, checked);
    expect(factor).toMatchObject({ type: 'passkey', name: 'Laptop', confirmedAt: expect.any(String) });
    expect(recoveryCodes).toHaveLength(10);
    expect(await factors.methodsFor(user.id)).toEqual(['passkey', 'recovery']);
  });

  it('gives recovery codes with the first factor only, and excludes registered passkeys from new options', async () => {
    const { user, authenticator } = await registered();
    const options = await sut.registrationOptions(user);
    expect(options.excludeCredentials).toEqual([expect.objectContaining({ id: authenticator.credentialId })]);
    const second = new SoftwareAuthenticator({ origin: ORIGIN });
    const { recoveryCodes } = await sut.confirmRegistration(
      user.id,
      await sut.checkRegistration(user.id, 'Phone', second.register(options)),
    );
    expect(recoveryCodes).toEqual([]);
    expect((await factors.list(user.id)).map((factor) => factor.name)).toEqual(['Laptop', 'Phone']);
  });

  it('signs in with a passkey alone, naming the account from the credential, and says whether the person was verified', async () => {
    const verified = await registered();
    const proof = await sut.authenticate('sign-in', verified.authenticator.authenticate(await sut.authenticationOptions('sign-in')));
    expect(proof).toEqual({ userId: verified.user.id, factorId: verified.factor.id, userVerified: true });

    const presentOnly = await registered({ userVerified: false });
    const unverified = await sut.authenticate(
      'sign-in',
      presentOnly.authenticator.authenticate(await sut.authenticationOptions('sign-in')),
    );
    expect(unverified).toMatchObject({ userId: presentOnly.user.id, userVerified: false });
  });

  it('takes a challenge once: a replayed assertion, or a second answer to one challenge, is refused', async () => {
    const { user, authenticator } = await registered({ counts: false });
    const options = await sut.authenticationOptions('second-step', user.id);
    expect(options.allowCredentials).toEqual([expect.objectContaining({ id: authenticator.credentialId })]);
    const answer = authenticator.authenticate(options);
    const results = await Promise.all([
      refusal(sut.authenticate('second-step', answer, user.id)),
      refusal(sut.authenticate('second-step', answer, user.id)),
    ]);
    expect(results.sort()).toEqual(['accepted', 'challenge']);
    expect(await refusal(sut.authenticate('second-step', authenticator.authenticate(options), user.id))).toBe('challenge');
  });

  it('refuses a challenge issued for another purpose or account, or expired', async () => {
    const { user, authenticator } = await registered();
    const other = await newUser();
    expect(
      await refusal(
        sut.authenticate('reauth', authenticator.authenticate(await sut.authenticationOptions('second-step', user.id)), user.id),
      ),
    ).toBe('challenge');
    expect(
      await refusal(
        sut.authenticate('second-step', authenticator.authenticate(await sut.authenticationOptions('second-step', other.id)), user.id),
      ),
    ).toBe('challenge');
    const options = await sut.authenticationOptions('second-step', user.id);
    const now = Date.now();
    const clock = jest.spyOn(Date, 'now').mockReturnValue(now + WEBAUTHN_CHALLENGE_TTL_MS + 1);
    try {
      expect(await refusal(sut.authenticate('second-step', authenticator.authenticate(options), user.id))).toBe('challenge');
    } finally {
      clock.mockRestore();
    }
  });

  it('refuses another account’s passkey, an unknown one, and a signature by the wrong key', async () => {
    const owner = await registered();
    const other = await registered();
    const options = await sut.authenticationOptions('second-step', other.user.id);
    expect(await refusal(sut.authenticate('second-step', owner.authenticator.authenticate(options), other.user.id))).toBe('credential');
    const stranger = new SoftwareAuthenticator({ origin: ORIGIN });
    expect(await refusal(sut.authenticate('sign-in', stranger.authenticate(await sut.authenticationOptions('sign-in'))))).toBe(
      'credential',
    );

    const forged = other.authenticator.authenticate(await sut.authenticationOptions('second-step', other.user.id));
    const signedByOwner = owner.authenticator.authenticate({ challenge: 'x', rpId: 'sessions.example.test' });
    const mixed = { ...forged, response: { ...forged.response, signature: signedByOwner.response.signature } };
    expect(await refusal(sut.authenticate('second-step', mixed, other.user.id))).toBe('assertion');
  });

  it('refuses a signature counter that did not grow (a cloned authenticator), as the library checks', async () => {
    const { user, authenticator } = await registered();
    await sut.authenticate('second-step', authenticator.authenticate(await sut.authenticationOptions('second-step', user.id)), user.id);
    authenticator.counter -= 1;
    expect(
      await refusal(
        sut.authenticate('second-step', authenticator.authenticate(await sut.authenticationOptions('second-step', user.id)), user.id),
      ),
    ).toBe('assertion');
  });

  it('refuses an answer made for another origin, and a credential registered twice', async () => {
    const { user, authenticator } = await registered();
    const phishing = new SoftwareAuthenticator({ origin: 'https://sessions.example.test.evil.example' });
    const phished = phishing.register(await sut.registrationOptions(user));
    expect(await refusal(sut.checkRegistration(user.id, 'Evil', phished))).toBe('attestation');

    const other = await newUser();
    const again = authenticator.register(await sut.registrationOptions(other));
    expect(await refusal(sut.checkRegistration(other.id, 'Copy', again))).toBe('credential');
  });
});
