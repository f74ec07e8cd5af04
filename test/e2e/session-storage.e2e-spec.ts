import { HashedMongoStore } from '../../src/sessions/hashed-mongo-store';
import { SESSION_STORE } from '../../src/sessions/session.constants';
import { SessionsRepository } from '../../src/sessions/sessions.repository';
import { ExpirySweeper } from '../../src/database/expiry-sweeper.service';
import { SessionEventsRepository } from '../../src/session-events/session-events.repository';
import type { Cookie, SessionData } from 'express-session';
import { promisify } from 'node:util';
import { sessionStorageId } from '../../src/sessions/session-id';
import { sentCookie, signIn, tokenOf } from '../helpers/agents';
import { connectionOf, useTestApp } from '../helpers/test-app';
import { createUser } from '../helpers/users';

describe('session storage', () => {
  const ctx = useTestApp({ db: 'storage' });

  it('uses a TTL index where the server has them and the sweep where it does not (FerretDB)', async () => {
    const db = connectionOf(ctx.app).db!;
    const buildInfo = await db.admin().command({ buildInfo: 1 });
    const isFerretDb = typeof buildInfo.ferretdbVersion === 'string';
    expect(ctx.app.get(SessionsRepository).expiresNatively).toBe(!isFerretDb);
    const indexes = await db.collection('sessions').indexes();
    const onExpires = indexes.find((index) => index.key.expires === 1);
    expect(onExpires).toBeDefined();
    expect(onExpires?.expireAfterSeconds).toBe(isFerretDb ? undefined : 0);
    expect(indexes.some((index) => index.key['session.userId'] === 1)).toBe(true);
  });

  it('finds a session by its _id through the _id index, on either engine', async () => {
    const db = connectionOf(ctx.app).db!;
    const explained = await db.command({ explain: { find: 'sessions', filter: { _id: 'a'.repeat(64) } } });
    const plan = JSON.stringify(explained.queryPlanner);
    if (ctx.app.get(SessionsRepository).expiresNatively) {
      // MongoDB: an _id lookup is IDHACK (or EXPRESS_IXSCAN from 8.0), never a collection scan.
      expect(plan).toMatch(/IDHACK|EXPRESS_IXSCAN|IXSCAN/);
      expect(plan).not.toMatch(/COLLSCAN/);
    } else {
      // FerretDB as built here (see ferretdb-patches.ts): SQLite searches the _id index instead of scanning.
      expect(plan).toMatch(/SEARCH \S+ USING INDEX \S+__id_/);
      expect(plan).not.toMatch(/SCAN \S+"\]/);
    }
  });

  it('sweeps documents past their TTL date where there is no TTL index, and keeps live ones', async () => {
    const user = await createUser(ctx.app);
    await signIn(ctx.app, user);
    const sessions = connectionOf(ctx.app).collection<{ _id: string; expires: Date }>('sessions');
    await sessions.insertOne({ _id: 'stale-session', expires: new Date(Date.now() - 1_000) });
    const deleted = await ctx.app.get(ExpirySweeper).sweep();
    if (ctx.app.get(SessionsRepository).expiresNatively) {
      // MongoDB: the TTL index removes it (within a minute); the app sweeps nothing itself.
      expect(deleted).toBe(0);
    } else {
      expect(deleted).toBeGreaterThanOrEqual(1);
      expect(await sessions.findOne({ _id: 'stale-session' })).toBeNull();
    }
    expect(await sessions.countDocuments({ 'session.userId': user.id } as never)).toBe(1);
  });

  it('stores events as the schema says: its defaults filled in, an undefined field left out, not null', async () => {
    const at = new Date();
    await ctx.app.get(SessionEventsRepository).insert([
      {
        type: 'session.revoked',
        userId: 'storage-user',
        actorId: undefined,
        at,
        expiresAt: at,
        signedInDevice: { browser: 'Chrome', os: 'Linux', engine: undefined },
      } as never,
    ]);
    const events = connectionOf(ctx.app).collection('session_events');
    const stored = await events.findOne({ userId: 'storage-user' });
    expect(stored).toMatchObject({
      type: 'session.revoked',
      ip: '',
      userAgent: '',
      correlationId: '',
      signedInDevice: { browser: 'Chrome', os: 'Linux' },
    });
    expect(stored?._id).toMatch(/^[0-9a-f]{24}$/);
    expect(stored).not.toHaveProperty('actorId');
    expect(stored?.signedInDevice).not.toHaveProperty('engine');

    // And what a sign-in records: no field of any event stored as null.
    await signIn(ctx.app, await createUser(ctx.app));
    const nulls = (await events.find().toArray()).flatMap((event) => JSON.stringify(event).match(/"[^"]+":null/g) ?? []);
    expect(nulls).toEqual([]);
  });
});

describe('nothing writes a deleted session back', () => {
  let store: HashedMongoStore;
  const ctx = useTestApp({ db: 'no_resurrection' });
  beforeAll(async () => {
    store = ctx.app.get<HashedMongoStore>(SESSION_STORE);
  });

  /** A signed-in session's token and its stored data, then the document deleted (sign-out elsewhere). */
  async function deletedSession(): Promise<{ token: string; data: SessionData & { cookie: Cookie } }> {
    const agent = await signIn(ctx.app, await createUser(ctx.app));
    const token = tokenOf(sentCookie(await agent.get('/api/auth/me').expect(200), 'session_token'));
    const data = await promisify(store.get.bind(store))(token);
    expect(data).toBeTruthy();
    await connectionOf(ctx.app)
      .collection('sessions')
      .deleteOne({ _id: sessionStorageId(token) } as never);
    return { token, data: data as SessionData & { cookie: Cookie } };
  }

  const stored = (token: string) =>
    connectionOf(ctx.app)
      .collection('sessions')
      .findOne({ _id: sessionStorageId(token) } as never);

  it("express-session's save (store.set) does not re-create it", async () => {
    const { token, data } = await deletedSession();
    await promisify(store.set.bind(store))(token, data);
    expect(await stored(token)).toBeNull();
  });

  it('a touch cannot re-create it: the store offers express-session none', () => {
    expect(store.touch).toBeUndefined();
  });

  it('an activity write from a request still in flight does not re-create it', async () => {
    const { token, data } = await deletedSession();
    await ctx.app.get(SessionsRepository).recordActivity(sessionStorageId(token), data.createdAt, new Date());
    expect(await stored(token)).toBeNull();
  });
});

describe('indexes: one per query shape (what keeps admin pages fast on MongoDB)', () => {
  const ctx = useTestApp({ db: 'indexes' });

  async function keysOf(collection: string): Promise<string[]> {
    const indexes = await connectionOf(ctx.app).db!.collection(collection).indexes();
    return indexes.map((index) => JSON.stringify(index.key));
  }

  it.each([
    // The expiry pass reads only sessions it has not marked ended, by first deadline.
    [
      'sessions',
      [
        '{"expires":1}',
        '{"session.userId":1,"expires":-1}',
        '{"session.endedReason":1,"expires":1}',
        '{"session.endedBy":1,"session.markedAt":1}',
      ],
    ],
    // The expiry pass finishes credential changes: the sessions they left behind and their audit events.
    ['users', ['{"email":1}', '{"role":1}', '{"staleStamps":1}', '{"pendingEvents":1}']],
    // Session lengths: the ending types merged in length order, the range checked in the index.
    ['session_events', ['{"at":-1}', '{"type":1,"at":-1}', '{"userId":1,"at":-1}', '{"type":1,"durationMs":1,"at":1}', '{"expiresAt":1}']],
    ['login_failures', ['{"_id":1}', '{"expire":1}']],
    ['session_stats', ['{"at":-1}', '{"expiresAt":1}']],
  ])('%s has %j', async (collection, expected) => {
    expect(await keysOf(collection)).toEqual(expect.arrayContaining(expected as string[]));
  });
});
