/**
 * Session ids a server has already seen, so that a replayed connection (a session id used a
 * second time) is refused before any session state exists. Bounded: the oldest ids are
 * forgotten beyond `capacity` (a 128-bit random id recurring after that many sessions is not
 * a concern; a replay that old finds no peer to pair with anyway).
 */
export class RecentIds {
  private readonly ids = new Set<string>();

  constructor(private readonly capacity = 100_000) {}

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(id: string): void {
    this.ids.add(id);
    if (this.ids.size > this.capacity) {
      const oldest = this.ids.values().next().value;
      if (oldest !== undefined) this.ids.delete(oldest);
    }
  }
}
