/**
 * When this instance last wrote each session's activity. Requests of one
 * session that loaded it before a write all see the old time and would each
 * write again; this lets the first one write and the others skip until the
 * write interval has passed. Bounded: the oldest entries make room.
 */
export class ActivityWrites {
  private readonly writtenAt = new Map<string, number>();

  constructor(
    private readonly intervalMs: number,
    private readonly maxEntries: number,
  ) {}

  /** True when the caller should write now (and it is then counted as written). */
  claim(id: string, now: number): boolean {
    const last = this.writtenAt.get(id);
    if (last !== undefined && now - last < this.intervalMs) return false;
    this.writtenAt.delete(id);
    if (this.writtenAt.size >= this.maxEntries) this.writtenAt.delete(this.writtenAt.keys().next().value as string);
    this.writtenAt.set(id, now);
    return true;
  }

  /** The write claimed at `at` failed: the next request may try again. */
  release(id: string, at: number): void {
    if (this.writtenAt.get(id) === at) this.writtenAt.delete(id);
  }
}
