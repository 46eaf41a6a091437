/**
 * A bounded memory of ids: remembers at least the last `capacity` ids added (at most 2 × capacity), in two
 * generations of Sets: when the current one fills, it becomes the old one and the previous old one is dropped whole.
 * O(1) add/has, no per-id bookkeeping for the order.
 *
 * ## Example
 * ```ts
 * const ids = new RecentIds(2);
 * ids.add('a'); ids.add('b'); ids.add('c'); // a, b → old generation; c → current
 * ids.has('a'); // true (at least the last 2 are kept; here all 3)
 * ids.add('d'); ids.add('e');               // c, d → old; e → current; a, b dropped
 * ids.has('a'); // false
 * ```
 */
export class RecentIds {
  private readonly capacity: number;
  private current = new Set<string>();
  private old = new Set<string>();

  constructor(capacity: number) {
    if (!(Number.isInteger(capacity) && capacity > 0)) {
      throw new TypeError(`Expected \`capacity\` to be a positive integer, got \`${capacity}\` (${typeof capacity})`);
    }
    this.capacity = capacity;
  }

  add(id: string): void {
    if (this.current.has(id)) return;
    if (this.current.size >= this.capacity) {
      this.old = this.current;
      this.current = new Set();
    }
    this.current.add(id);
  }

  has(id: string): boolean {
    return this.current.has(id) || this.old.has(id);
  }

  /** Entries held now (at most 2 × capacity; an id added again after a rotation counts twice). */
  get size(): number {
    return this.current.size + this.old.size;
  }
}
