import { EXPIRED_SESSION_RETENTION_MS, MAX_ACTIVITY_WRITE_INTERVAL_MS, SessionExpiryPolicy } from './session-expiry-policy';

const MINUTE = 60_000;
const signIn = new Date('2026-01-01T10:00:00Z');
const at = (minutesAfterSignIn: number) => new Date(signIn.getTime() + minutesAfterSignIn * MINUTE);

describe('SessionExpiryPolicy', () => {
  const sut = new SessionExpiryPolicy(15 * MINUTE, 160 * MINUTE);

  it('keeps a session alive inside both windows', () => {
    expect(sut.evaluate({ createdAt: signIn, lastActivityAt: at(10) }, at(20))).toMatchObject({ expired: false });
  });

  it('ends a session after the inactivity window without activity', () => {
    expect(sut.evaluate({ createdAt: signIn, lastActivityAt: at(10) }, at(25))).toMatchObject({
      expired: true,
      reason: 'inactivity',
    });
  });

  it('ends it exactly at the idle deadline, not a millisecond later', () => {
    const verdict = sut.evaluate({ createdAt: signIn, lastActivityAt: signIn }, at(15));
    expect(verdict.expired).toBe(true);
    expect(sut.evaluate({ createdAt: signIn, lastActivityAt: signIn }, new Date(at(15).getTime() - 1)).expired).toBe(false);
  });

  it('rolls the idle deadline forward with activity', () => {
    const verdict = sut.evaluate({ createdAt: signIn, lastActivityAt: at(100) }, at(110));
    expect(verdict).toMatchObject({ expired: false, idleExpiresAt: at(115) });
  });

  it('ends a session at the absolute lifetime however active it is', () => {
    expect(sut.evaluate({ createdAt: signIn, lastActivityAt: at(159) }, at(160))).toMatchObject({
      expired: true,
      reason: 'absolute',
    });
  });

  it('names the deadline that passed first when both have', () => {
    expect(sut.evaluate({ createdAt: signIn, lastActivityAt: at(150) }, at(200))).toMatchObject({ reason: 'absolute' });
    expect(sut.evaluate({ createdAt: signIn, lastActivityAt: at(100) }, at(200))).toMatchObject({ reason: 'inactivity' });
  });

  it('reports both deadlines', () => {
    expect(sut.deadlines({ createdAt: signIn, lastActivityAt: at(30) })).toEqual({
      idleExpiresAt: at(45),
      absoluteExpiresAt: at(160),
    });
  });

  it('never reports the idle deadline past the absolute one', () => {
    expect(sut.deadlines({ createdAt: signIn, lastActivityAt: at(150) })).toEqual({
      idleExpiresAt: at(160),
      absoluteExpiresAt: at(160),
    });
    expect(sut.evaluate({ createdAt: signIn, lastActivityAt: at(150) }, at(159))).toMatchObject({ idleExpiresAt: at(160) });
  });

  it('writes activity at most once per minute for long windows', () => {
    expect(sut.activityWriteIntervalMs).toBe(MAX_ACTIVITY_WRITE_INTERVAL_MS);
    expect(sut.shouldRecordActivity({ createdAt: signIn, lastActivityAt: signIn }, new Date(signIn.getTime() + 59_999))).toBe(false);
    expect(sut.shouldRecordActivity({ createdAt: signIn, lastActivityAt: signIn }, at(1))).toBe(true);
  });

  it('writes activity at most once per tenth of a short inactivity window', () => {
    expect(new SessionExpiryPolicy(3_000, 6_000).activityWriteIntervalMs).toBe(300);
  });

  it('keeps the document past the first deadline so the reason is still known', () => {
    expect(sut.storageExpiry({ createdAt: signIn, lastActivityAt: at(10) })).toEqual(
      new Date(at(25).getTime() + EXPIRED_SESSION_RETENTION_MS),
    );
    expect(sut.storageExpiry({ createdAt: signIn, lastActivityAt: at(155) })).toEqual(
      new Date(at(160).getTime() + EXPIRED_SESSION_RETENTION_MS),
    );
  });

  it('ends a session at its stored deadline when the windows were made longer since it was written', () => {
    const timestamps = { createdAt: signIn, lastActivityAt: at(10) };
    const stored = new SessionExpiryPolicy(5 * MINUTE, 160 * MINUTE).storageExpiry(timestamps);
    // Written under a 5-minute window (first deadline at +15), read under a 15-minute one.
    expect(sut.evaluate(timestamps, at(14), stored)).toMatchObject({ expired: false, idleExpiresAt: at(15) });
    expect(sut.evaluate(timestamps, at(15), stored)).toMatchObject({ expired: true, reason: 'inactivity' });
    // Stored under the same settings, the stored deadline is the computed one.
    expect(sut.evaluate(timestamps, at(24), sut.storageExpiry(timestamps))).toMatchObject({ expired: false, idleExpiresAt: at(25) });
  });
});
