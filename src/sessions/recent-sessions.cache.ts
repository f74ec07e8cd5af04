import type { SessionDocument } from './session-document';

/**
 * Session documents read in the last second, in this instance's memory. A
 * page load or a client's burst asks for the same session several times in a
 * moment; each asks MongoDB once a second at most. This instance forgets an
 * entry the moment it deletes or changes that session, so here an ended
 * session ends at once; another instance may go on serving a copy it read just
 * before, for at most `ttlMs`. Bounded: the oldest entries make room.
 */
export class RecentSessionsCache {
  private readonly entries = new Map<string, { document: SessionDocument; until: number }>();
  /**
   * What was forgotten lately, by session id or user id: a read that started
   * before a delete must not put the deleted session back when it completes.
   */
  private readonly forgotten = new Map<string, number>();
  private everythingForgottenAt = -Infinity;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  /** A copy, so nothing a request does to its session reaches the cached one. */
  get(id: string, now = Date.now()): SessionDocument | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    if (entry.until <= now) {
      this.entries.delete(id);
      return undefined;
    }
    const { document } = entry;
    return { ...document, session: { ...document.session, cookie: { ...document.session.cookie } } };
  }

  set(document: SessionDocument, now = Date.now()): void {
    if (this.ttlMs <= 0 || now < this.everythingForgottenAt + this.ttlMs) return;
    if (this.wasForgotten(document._id, now) || this.wasForgotten(`user:${document.session.userId}`, now)) return;
    this.entries.delete(document._id);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(document._id, { document, until: now + this.ttlMs });
  }

  forget(id: string, now = Date.now()): void {
    this.entries.delete(id);
    this.remember(id, now);
  }

  /** Everything, and nothing read before now is taken back (an emergency sign-out). */
  forgetAll(now = Date.now()): void {
    this.entries.clear();
    this.everythingForgottenAt = now;
  }

  forgetUser(userId: string, now = Date.now()): void {
    for (const [id, { document }] of this.entries) if (document.session.userId === userId) this.entries.delete(id);
    this.remember(`user:${userId}`, now);
  }

  private remember(key: string, now: number): void {
    this.forgotten.delete(key);
    if (this.forgotten.size >= this.maxEntries) this.forgotten.delete(this.forgotten.keys().next().value as string);
    this.forgotten.set(key, now + this.ttlMs);
  }

  private wasForgotten(key: string, now: number): boolean {
    const until = this.forgotten.get(key);
    if (until === undefined) return false;
    if (until > now) return true;
    this.forgotten.delete(key);
    return false;
  }
}
