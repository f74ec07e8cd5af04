import type { NestExpressApplication } from '@nestjs/platform-express';
import { AnyBulkWriteOperation, Collection, MongoNetworkError } from 'mongodb';
import { RequestContext } from '../../src/common/context/request-context';
import { createHash } from 'node:crypto';
import { burstOfSignIns, SignInAttempt, sleep } from '../helpers/agents';
import { connectionOf, useTestApp } from '../helpers/test-app';
import { createUser } from '../helpers/users';

/**
 * The sign-in throttle's contract under races and failures (LoginThrottleService):
 * an attempt refused by either counter (account or IP) is counted by neither,
 * contention alone never answers 429, and contention that does not settle is an
 * outage (503 SYS_9002), not a lock.
 */
const PER_ACCOUNT = 12;
const PER_IP = 4;
const PARALLEL = 12;

let nextIp = 1;
const freshIp = () => `192.0.2.${nextIp++}`;
const ghost = () => `ghost-${nextIp}-${Math.random().toString(36).slice(2)}@example.test`;

const accountKey = (email: string) => `account:${createHash('sha256').update(email.trim().toLowerCase()).digest('hex')}`;
const ipKey = (ip: string) => `ip:${ip}`;

interface CounterDocument {
  _id: string;
  points: number;
  expire: Date;
}

const signInOnce = async (app: NestExpressApplication, attempt: SignInAttempt) => (await burstOfSignIns(app, [attempt]))[0];

describe(`sign-in throttle under races and failures (${PER_ACCOUNT} per account, ${PER_IP} per IP)`, () => {
  const counters = () => connectionOf(ctx.app).collection<CounterDocument>('login_failures');
  const counter = (key: string) => counters().findOne({ _id: key });
  const pointsOf = async (key: string) => (await counter(key))?.points;
  const lockedEvents = () => connectionOf(ctx.app).collection('session_events').countDocuments({ type: 'login.locked' });

  /** Spends an IP's whole budget on wrong passwords for unknown emails. */
  async function exhaustIp(ip: string) {
    for (let i = 0; i < PER_IP; i++) expect((await signInOnce(ctx.app, { email: ghost(), password: 'wrong', ip })).status).toBe(401);
    expect(await pointsOf(ipKey(ip))).toBe(PER_IP);
  }

  /** An account at its limit, locked by failures from addresses used for nothing else. */
  async function lockedAccount() {
    const user = await createUser(ctx.app);
    for (let i = 0; i < PER_ACCOUNT; i++) {
      expect((await signInOnce(ctx.app, { email: user.email, password: 'wrong', ip: freshIp() })).status).toBe(401);
    }
    expect(await pointsOf(accountKey(user.email))).toBe(PER_ACCOUNT);
    return user;
  }

  /** An address whose counter holds one failure (against an unknown email). */
  async function ipWithOneFailure() {
    const ip = freshIp();
    expect((await signInOnce(ctx.app, { email: ghost(), password: 'wrong', ip })).status).toBe(401);
    expect(await pointsOf(ipKey(ip))).toBe(1);
    return ip;
  }

  const ctx = useTestApp({
    db: 'throttle_races',
    env: {
      LOGIN_MAX_FAILURES: String(PER_ACCOUNT),
      LOGIN_MAX_FAILURES_PER_IP: String(PER_IP),
      // Long enough that nothing lapses during a test unless the test says so.
      LOGIN_LOCK_MINUTES: '2',
      TRUST_PROXY: '1',
    },
  });
  afterEach(() => jest.restoreAllMocks());

  it('an IP past its limit adds nothing to any account counter, and the owner still signs in from elsewhere', async () => {
    const ip = freshIp();
    await exhaustIp(ip);
    const victim = await createUser(ctx.app);
    const others = [ghost(), ghost(), ghost(), ghost()];
    // More than the account's budget against the victim, plus a few other accounts, all at once.
    const attempts = [
      ...Array.from({ length: PER_ACCOUNT + 4 }, (_, i) => ({ email: victim.email, password: `wrong ${i}`, ip })),
      ...others.map((email) => ({ email, password: 'wrong', ip })),
    ];
    const responses = await burstOfSignIns(ctx.app, attempts);
    expect(responses.map((response) => `${response.status} ${response.body.error?.code}`)).toEqual(
      Array(attempts.length).fill('429 AUTH_1006'),
    );

    expect(await counter(accountKey(victim.email))).toBeNull();
    for (const email of others) expect(await counter(accountKey(email))).toBeNull();
    expect(await pointsOf(ipKey(ip))).toBe(PER_IP);
    expect((await signInOnce(ctx.app, { email: victim.email, password: victim.password, ip: freshIp() })).status).toBe(200);
  });

  /**
   * Makes the server refuse the statement that counts an attempt on `counter`
   * ('account' or 'ip') while that counter is below its limit, as contention
   * does (a concurrent first attempt: duplicate key on the upsert; a counter
   * deleted or lapsed between two statements), whenever `refuse(correlationId)`
   * says so. The refusal is real, from the server: the statement's filter is
   * made unsatisfiable (points are never negative).
   */
  function injectContention(counter: 'account' | 'ip', refuse: (correlationId: string) => boolean) {
    const bulkWrite = Collection.prototype.bulkWrite;
    const isCount = (operation: AnyBulkWriteOperation) =>
      'updateOne' in operation &&
      String(operation.updateOne.filter._id).startsWith(`${counter}:`) &&
      (operation.updateOne.filter as { points?: { $lt?: number } }).points?.$lt !== undefined;
    return jest.spyOn(Collection.prototype, 'bulkWrite').mockImplementation(async function (this: Collection, operations, options) {
      if (this.collectionName !== 'login_failures' || !operations.some(isCount) || !refuse(RequestContext.client().correlationId)) {
        return bulkWrite.call(this, operations, options);
      }
      const contended = operations.map((operation) =>
        'updateOne' in operation && isCount(operation)
          ? { updateOne: { ...operation.updateOne, filter: { ...operation.updateOne.filter, points: { $lt: 0 } } } }
          : operation,
      );
      return bulkWrite.call(this, contended, options);
    });
  }

  /** The first `rounds` tries of every request are refused by contention. */
  function contendedFor(rounds: number) {
    const tries = new Map<string, number>();
    return {
      refuse: (correlationId: string) => {
        tries.set(correlationId, (tries.get(correlationId) ?? 0) + 1);
        return tries.get(correlationId)! <= rounds;
      },
      tries: () => [...tries.values()],
    };
  }

  it(`lets ${PARALLEL} parallel correct sign-ins of one account through (fresh counters): none gets 429, no lock is recorded`, async () => {
    // Several rounds: a race that loses one sign-in in ten bursts must still show (on MongoDB parallel
    // first upserts of one counter collide; FerretDB's write lock serialises them).
    for (let round = 0; round < 3; round++) {
      const user = await createUser(ctx.app);
      const lockedBefore = await lockedEvents();
      const responses = await burstOfSignIns(
        ctx.app,
        Array.from({ length: PARALLEL }, () => ({ email: user.email, password: user.password, ip: freshIp() })),
      );
      expect(responses.map((response) => `${response.status} ${response.body.error?.code ?? ''}`)).toEqual(Array(PARALLEL).fill('200 '));
      expect(await lockedEvents()).toBe(lockedBefore);
      // Every success gave its points back.
      expect(await pointsOf(accountKey(user.email))).toBe(0);
    }
  });

  it(`lets ${PARALLEL} parallel correct sign-ins through when each one's account count meets contention for 3 rounds`, async () => {
    const user = await createUser(ctx.app);
    const contention = contendedFor(3);
    injectContention('account', contention.refuse);
    const lockedBefore = await lockedEvents();
    const ips = Array.from({ length: PARALLEL }, () => freshIp());
    const responses = await burstOfSignIns(
      ctx.app,
      ips.map((ip) => ({ email: user.email, password: user.password, ip })),
    );
    jest.restoreAllMocks();
    expect(responses.map((response) => `${response.status} ${response.body.error?.code ?? ''}`)).toEqual(Array(PARALLEL).fill('200 '));
    // Each was refused 3 times, then counted once (and given back once the password was right).
    expect(contention.tries()).toEqual(Array(PARALLEL).fill(4));
    expect(await lockedEvents()).toBe(lockedBefore);
    expect(await pointsOf(accountKey(user.email))).toBe(0);
    for (const ip of ips) expect(await pointsOf(ipKey(ip))).toBe(0);
  });

  it('lets parallel correct sign-ins from one address through when its IP count meets contention for 3 rounds', async () => {
    const users = await Promise.all(Array.from({ length: PER_IP - 1 }, () => createUser(ctx.app)));
    const ip = await ipWithOneFailure();
    const contention = contendedFor(3);
    injectContention('ip', contention.refuse);
    const lockedBefore = await lockedEvents();
    const responses = await burstOfSignIns(
      ctx.app,
      users.map((user) => ({ email: user.email, password: user.password, ip })),
    );
    jest.restoreAllMocks();
    expect(responses.map((response) => `${response.status} ${response.body.error?.code ?? ''}`)).toEqual(Array(users.length).fill('200 '));
    expect(contention.tries()).toEqual(Array(users.length).fill(4));
    expect(await lockedEvents()).toBe(lockedBefore);
    expect(await pointsOf(ipKey(ip))).toBe(1);
    for (const user of users) expect(await pointsOf(accountKey(user.email))).toBe(0);
  });

  it('does not charge the IP for an attempt its account refuses, even in parallel', async () => {
    const victim = await lockedAccount();
    const ip = await ipWithOneFailure();
    const attempts = Array.from({ length: 6 }, (_, i) => ({ email: victim.email, password: i % 2 ? victim.password : 'wrong', ip }));
    const responses = await burstOfSignIns(ctx.app, attempts);
    expect(responses.map((response) => `${response.status} ${response.body.error?.code}`)).toEqual(Array(6).fill('429 AUTH_1006'));
    for (const response of responses) expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    expect(await pointsOf(ipKey(ip))).toBe(1);
    expect(await pointsOf(accountKey(victim.email))).toBe(PER_ACCOUNT);
    // The IP still has the rest of its budget: PER_IP - 1 more failures are checked, then it is locked.
    for (let i = 1; i < PER_IP; i++) expect((await signInOnce(ctx.app, { email: ghost(), password: 'wrong', ip })).status).toBe(401);
    expect((await signInOnce(ctx.app, { email: ghost(), password: 'wrong', ip })).status).toBe(429);
  });

  it('re-reads a refused counter from the primary (a secondary may lag)', async () => {
    const victim = await lockedAccount();
    const find = jest.spyOn(Collection.prototype, 'find');
    expect((await signInOnce(ctx.app, { email: victim.email, password: 'wrong', ip: freshIp() })).status).toBe(429);
    const rereads = find.mock.contexts
      .map((collection, index) => ({ collection: (collection as Collection).collectionName, options: find.mock.calls[index][1] }))
      .filter(({ collection }) => collection === 'login_failures');
    jest.restoreAllMocks();
    expect(rereads.length).toBeGreaterThan(0);
    for (const { options } of rereads) {
      const preference = options?.readPreference as { mode?: string } | string | undefined;
      expect(typeof preference === 'string' ? preference : preference?.mode).toBe('primary');
    }
  });

  describe('between the IP statement and the account statement', () => {
    /**
     * The account's counter lapsed a moment ago: the first round counts the IP and
     * finds the account's counter lapsed, so the account statement runs again after
     * the lapsed counter is removed. `meanwhile` runs in that gap.
     */
    async function withGapAfterIpCounted(meanwhile: (key: string) => Promise<void>) {
      const user = await createUser(ctx.app);
      const key = accountKey(user.email);
      await counters().insertOne({ _id: key, points: PER_ACCOUNT, expire: new Date(Date.now() - 1) });
      const deleteOne = Collection.prototype.deleteOne;
      const deleteMany = Collection.prototype.deleteMany;
      let gaps = 0;
      const gap = async () => {
        gaps++;
        await meanwhile(key);
      };
      jest.spyOn(Collection.prototype, 'deleteOne').mockImplementation(async function (this: Collection, ...args) {
        if (this.collectionName === 'login_failures') await gap();
        return deleteOne.apply(this, args);
      });
      jest.spyOn(Collection.prototype, 'deleteMany').mockImplementation(async function (this: Collection, ...args) {
        if (this.collectionName === 'login_failures' && JSON.stringify(args[0]).includes(key)) await gap();
        return deleteMany.apply(this, args);
      });
      return { user, key, gaps: () => gaps };
    }

    it('a delay there, during which the account gets locked and the IP counts another failure: the IP is charged for that failure only', async () => {
      const ip = await ipWithOneFailure();
      const { user, key, gaps } = await withGapAfterIpCounted(async (accountCounter) => {
        // Meanwhile: the account is locked by attempts elsewhere, and this IP fails once more on another account.
        await counters().updateOne({ _id: accountCounter }, { $set: { points: PER_ACCOUNT, expire: new Date(Date.now() + 60_000) } });
        expect((await signInOnce(ctx.app, { email: ghost(), password: 'wrong', ip })).status).toBe(401);
      });
      const lockedBefore = await lockedEvents();
      const response = await signInOnce(ctx.app, { email: user.email, password: user.password, ip });
      expect(gaps()).toBe(1);
      expect(response.status).toBe(429);
      expect(response.body.error.code).toBe('AUTH_1006');
      expect(await lockedEvents()).toBe(lockedBefore + 1);
      // 1 before + 1 for the failure that was checked meanwhile; nothing for the refused attempt.
      expect(await pointsOf(ipKey(ip))).toBe(2);
      expect(await pointsOf(key)).toBe(PER_ACCOUNT);
    });

    it('a database failure there: 503 SYS_9002, no lock recorded, no counter charged', async () => {
      const ip = await ipWithOneFailure();
      const { user, key, gaps } = await withGapAfterIpCounted(async () => {
        throw new MongoNetworkError('injected: connection to MongoDB lost');
      });
      const lockedBefore = await lockedEvents();
      const response = await signInOnce(ctx.app, { email: user.email, password: user.password, ip });
      expect(gaps()).toBe(1);
      expect(response.status).toBe(503);
      expect(response.body.error.code).toBe('SYS_9002');
      expect(await lockedEvents()).toBe(lockedBefore);
      // In an outage the point is given back without holding the answer for long: wait a moment for it.
      for (let waited = 0; (await pointsOf(ipKey(ip))) !== 1 && waited < 2_000; waited += 100) await sleep(100);
      expect(await pointsOf(ipKey(ip))).toBe(1);
      // The lapsed account counter is as it was: no attempt was counted against it.
      expect(await counter(key)).toMatchObject({ points: PER_ACCOUNT });
    });
  });

  it('contention that never settles is an outage (503 SYS_9002), not a lock: no Retry-After, no locked event, no counter charged', async () => {
    const user = await createUser(ctx.app);
    // The account's counter exists (one failure from elsewhere), so no try can be the one that creates it.
    expect((await signInOnce(ctx.app, { email: user.email, password: 'wrong', ip: freshIp() })).status).toBe(401);
    const ip = await ipWithOneFailure();
    // Every try meets contention; the account's counter never reaches its limit.
    let tries = 0;
    injectContention('account', () => ++tries > 0);
    const lockedBefore = await lockedEvents();
    const response = await signInOnce(ctx.app, { email: user.email, password: user.password, ip });
    jest.restoreAllMocks();
    expect(`${response.status} ${response.body.error?.code}`).toBe('503 SYS_9002');
    expect(response.headers['retry-after']).toBeUndefined();
    expect(tries).toBeGreaterThan(1);
    expect(await lockedEvents()).toBe(lockedBefore);
    expect(await pointsOf(ipKey(ip))).toBe(1);
    expect(await pointsOf(accountKey(user.email))).toBe(1);
  });
});
