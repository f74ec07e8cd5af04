import MongoStore from 'connect-mongo';
import type { Request } from 'express';
import type { Cookie, SessionData } from 'express-session';
import type { Collection } from 'mongodb';
import { sessionStorageId } from './session-id';
import { SessionExpiryPolicy } from './session-expiry-policy';

type Callback = (error?: unknown) => void;
type StoredSession = SessionData & { cookie: Cookie };

export interface SessionDocument {
  _id: string;
  expires: Date;
  session: StoredSession;
}

type ConnectMongoOptions = ConstructorParameters<typeof MongoStore>[0];

/**
 * connect-mongo's store with three changes the SPEC needs:
 * - the document `_id` is a SHA-256 of the cookie token, so a copy of the
 *   database holds no usable session token;
 * - a session is created only by `insert()` at sign-in and every later write
 *   is a plain update by `_id`, so nothing (a slow request, express-session's
 *   save) can re-create a session that was signed out, revoked or expired;
 * - reads are by `_id` alone (one indexed lookup on MongoDB and FerretDB) and
 *   return expired sessions too: deadlines are enforced from the session's own
 *   timestamps, so the caller can tell "expired" from "unknown".
 */
export class HashedMongoStore extends MongoStore {
  constructor(
    options: Omit<ConnectMongoOptions, 'stringify' | 'transformId' | 'touchAfter'>,
    private readonly policy: SessionExpiryPolicy,
    /** False where the server has no TTL indexes (FerretDB): ExpirySweeper deletes instead. */
    readonly expiresNatively: boolean,
  ) {
    super({ ...options, stringify: false, transformId: sessionStorageId });
  }

  get collection(): Promise<Collection<SessionDocument>> {
    return this.collectionP as unknown as Promise<Collection<SessionDocument>>;
  }

  override get(sid: string, callback: (error: unknown, session?: StoredSession | null) => void): void {
    this.collection
      .then((sessions) => sessions.findOne({ _id: sessionStorageId(sid) }))
      .then((document) => callback(null, document?.session ?? null), callback);
  }

  /**
   * Ignored: every write is explicit (insert at sign-in, recordActivity,
   * rotation). express-session calls this after any request that changed
   * `req.session`, which would be a second write of what sign-in just inserted;
   * assigning to `req.session` therefore never persists anything by itself.
   */
  override set(_sid: string, _session: StoredSession, callback: Callback = () => undefined): void {
    callback();
  }

  /** Activity is recorded by SessionsService.recordActivity, on the SPEC's terms, not on every response. */
  override touch(_sid: string, _session: StoredSession, callback: Callback = () => undefined): void {
    callback();
  }

  /**
   * A new id and an empty session for the request. Only a session that was
   * stored (it has a user) is deleted first: an anonymous visitor's id was never
   * written, so deleting it would be a wasted round trip on every sign-in; and
   * a session ended earlier in this request is already gone.
   */
  override regenerate(req: Request, callback: Callback): void {
    if ((req.session as Partial<SessionData> | undefined)?.userId) return super.regenerate(req, callback);
    // Added to the store by express-session: a new id and session, nothing deleted.
    (this as unknown as { generate(req: Request): void }).generate(req);
    callback();
  }

  /** The only way a session document comes to exist: at sign-in. */
  async insert(sid: string, session: StoredSession): Promise<void> {
    const sessions = await this.collection;
    await sessions.insertOne({
      _id: sessionStorageId(sid),
      session: toDocument(session),
      expires: this.policy.storageExpiry(session),
    });
  }

  /** Moves the idle deadline; a session deleted meanwhile stays deleted. */
  async recordActivity(sid: string, session: StoredSession, at: Date): Promise<void> {
    const sessions = await this.collection;
    await sessions.updateOne(
      { _id: sessionStorageId(sid) },
      {
        $set: {
          'session.lastActivityAt': at,
          expires: this.policy.storageExpiry({ createdAt: session.createdAt, lastActivityAt: at }),
        },
      },
    );
  }
}

function toDocument(session: StoredSession): StoredSession {
  const cookie = session.cookie as Cookie & { toJSON?: () => Cookie };
  return { ...session, cookie: typeof cookie?.toJSON === 'function' ? cookie.toJSON() : cookie };
}
