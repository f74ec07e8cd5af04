import type { SessionDocument } from './session-document';

type Load = (id: string) => Promise<SessionDocument | null>;

/** A read under way. `stale` once its session was changed meanwhile: its answer is passed on, never kept. */
interface Read {
  answer: Promise<SessionDocument | null>;
  stale: boolean;
}

/**
 * Session documents read in the last second, in this instance's memory. A
 * page load or a client's burst asks for the same session several times in a
 * moment; each asks MongoDB once a second at most, and requests that find it
 * missing at the same moment share one read (else every entry that runs out
 * would send a client's whole burst to the database at once).
 *
 * The repository forgets a session before and after each write to it: here an
 * ended session ends at once, and a read that was under way during the write
 * is not kept. Another instance may go on serving a copy it read just before,
 * for at most `ttlMs`. Bounded: the oldest entries make room.
 */
export class RecentSessionsCache {
  private readonly entries = new Map<string, { document: SessionDocument; until: number }>();
  private readonly reading = new Map<string, Read>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly clock: () => number = Date.now,
  ) {}

  /** From memory, else by `load`, joining a read of the same id already under way. A copy for each caller. */
  async read(id: string, load: Load): Promise<SessionDocument | null> {
    const recent = this.recent(id);
    if (recent) return copyOf(recent);
    if (this.ttlMs <= 0) return load(id);
    const document = await (this.reading.get(id) ?? this.startReading(id, load)).answer;
    return document && copyOf(document);
  }

  forget(id: string): void {
    this.entries.delete(id);
    this.abandon(id);
  }

  forgetUser(userId: string): void {
    for (const [id, { document }] of this.entries) if (document.session.userId === userId) this.entries.delete(id);
    // Whose session a read under way will return is not known yet.
    for (const id of [...this.reading.keys()]) this.abandon(id);
  }

  forgetAll(): void {
    this.entries.clear();
    for (const id of [...this.reading.keys()]) this.abandon(id);
  }

  private recent(id: string): SessionDocument | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    if (entry.until > this.clock()) return entry.document;
    this.entries.delete(id);
    return undefined;
  }

  private startReading(id: string, load: Load): Read {
    const read: Read = { answer: Promise.resolve(null), stale: false };
    read.answer = load(id)
      .then((document) => {
        if (document && !read.stale) this.keep(document);
        return document;
      })
      .finally(() => {
        if (this.reading.get(id) === read) this.reading.delete(id);
      });
    this.reading.set(id, read);
    return read;
  }

  private keep(document: SessionDocument): void {
    this.entries.delete(document._id);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(document._id, { document, until: this.clock() + this.ttlMs });
  }

  private abandon(id: string): void {
    const read = this.reading.get(id);
    if (!read) return;
    read.stale = true;
    this.reading.delete(id);
  }
}

function copyOf(document: SessionDocument): SessionDocument {
  return { ...document, session: { ...document.session, cookie: { ...document.session.cookie } } };
}
