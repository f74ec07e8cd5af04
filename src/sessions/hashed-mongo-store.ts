import MongoStore from 'connect-mongo';
import type { Request } from 'express';
import type { StoredSession } from './session-document';
import { sessionStorageId } from './session-id';
import type { SessionsRepository } from './sessions.repository';

type Callback = (error?: unknown) => void;
type ConnectMongoOptions = ConstructorParameters<typeof MongoStore>[0];

/**
 * connect-mongo's store as a thin adapter over SessionsRepository, which owns
 * the collection. What it changes:
 * - the document `_id` is a SHA-256 of the cookie token, so a copy of the
 *   database holds no usable session token;
 * - a session is created only by `insert()` at sign-in; nothing else writes a
 *   whole session, so no request (a slow one, express-session's save) can
 *   re-create a session that was signed out, revoked or expired; and nothing
 *   here deletes one (SessionsService owns every transition);
 * - reads are by `_id` alone and return expired sessions too: deadlines are
 *   enforced from the session's own timestamps, so the caller can tell
 *   "expired" from "unknown".
 */
export class HashedMongoStore extends MongoStore {
  constructor(
    options: Pick<ConnectMongoOptions, 'client' | 'dbName' | 'collectionName'>,
    private readonly repository: SessionsRepository,
  ) {
    // The repository owns indexes and expiry: connect-mongo creates none and sweeps nothing.
    super({ ...options, stringify: false, transformId: sessionStorageId, autoRemove: 'disabled' });
    // No touch: activity is recorded by SessionsService.recordActivity, only for requests that count.
    // express-session decides whether to touch by hashing the session once more after every request
    // it did not save; a store without touch spares that hash on every signed-in request.
    Object.defineProperty(this, 'touch', { value: undefined });
  }

  override get(sid: string, callback: (error: unknown, session?: StoredSession | null) => void): void {
    this.repository
      .findById(sessionStorageId(sid))
      .then((document) => callback(null, document ? { ...document.session, storedExpires: document.expires } : null), callback);
  }

  /**
   * Ignored: every write is explicit (insert at sign-in, activity, rotation).
   * express-session calls this after any request that changed `req.session`,
   * which would be a second write of what sign-in just inserted; assigning to
   * `req.session` therefore never persists anything by itself.
   */
  override set(_sid: string, _session: StoredSession, callback: Callback = () => undefined): void {
    callback();
  }

  /**
   * Refused: a session ends only through SessionsService, by a conditional
   * write that records the end once. Nothing here calls `req.session.destroy()`.
   */
  override destroy(_sid: string, callback: Callback = () => undefined): void {
    callback(new Error('Sessions end through SessionsService, not the store'));
  }

  /**
   * A new id and an empty session for the request; nothing is deleted. Whoever
   * regenerates has already ended the previous session (SessionsService), or
   * there was none: an anonymous visitor's id was never written.
   */
  override regenerate(req: Request, callback: Callback): void {
    // Added to the store by express-session: a new id and session.
    (this as unknown as { generate(req: Request): void }).generate(req);
    callback();
  }

  /** The only way a session document comes to exist: at sign-in (or rotation, under a new id). `id`: the public id. */
  insert(id: string, session: StoredSession): Promise<unknown> {
    return this.repository.insert({ _id: id, session: toDocument(session) });
  }
}

function toDocument(session: StoredSession): StoredSession {
  const cookie = session.cookie as StoredSession['cookie'] & { toJSON?: () => StoredSession['cookie'] };
  return { ...session, cookie: typeof cookie?.toJSON === 'function' ? cookie.toJSON() : cookie };
}
