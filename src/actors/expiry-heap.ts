/**
 * Min-heap of hold expiries. Entries are never removed in place: a released or extended hold
 * leaves a stale entry that `popDue` skips by asking whether the entry is still current.
 * So one live timer (for `peekMs`) serves the whole show.
 */
export class ExpiryHeap {
  private readonly atMs: number[] = [];
  private readonly holdIds: string[] = [];

  get size(): number {
    return this.atMs.length;
  }

  push(expiresAtMs: number, holdId: string): void {
    this.atMs.push(expiresAtMs);
    this.holdIds.push(holdId);
    let index = this.atMs.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (this.atMs[parent]! <= this.atMs[index]!) break;
      this.swap(index, parent);
      index = parent;
    }
  }

  /** Earliest entry's hold, possibly stale; undefined when empty. */
  peekHoldId(): string | undefined {
    return this.holdIds[0];
  }

  /** Earliest entry's time, possibly stale; undefined when empty. */
  peekMs(): number | undefined {
    return this.atMs[0];
  }

  /**
   * Every current entry due at `nowMs`, in (expiry, id) order, without changing the heap:
   * the decider stays pure, and `evolve` prunes the entries once their holds have ended.
   */
  collectDue(nowMs: number, isCurrent: (holdId: string, expiresAtMs: number) => boolean): string[] {
    const due: { atMs: number; holdId: string }[] = [];
    // A hold pinned or extended back onto an earlier expiry time has two identical entries.
    const seen = new Set<string>();
    const stack = this.atMs.length > 0 ? [0] : [];
    while (stack.length > 0) {
      const index = stack.pop()!;
      const atMs = this.atMs[index]!;
      if (atMs > nowMs) continue; // heap order: nothing below is due either
      const holdId = this.holdIds[index]!;
      if (!seen.has(holdId) && isCurrent(holdId, atMs)) {
        seen.add(holdId);
        due.push({ atMs, holdId });
      }
      const left = index * 2 + 1;
      if (left < this.atMs.length) stack.push(left);
      if (left + 1 < this.atMs.length) stack.push(left + 1);
    }
    due.sort((a, b) => a.atMs - b.atMs || (a.holdId < b.holdId ? -1 : a.holdId > b.holdId ? 1 : 0));
    return due.map((entry) => entry.holdId);
  }

  /** Removes and returns every entry due at `nowMs` that `isCurrent` confirms, in expiry order. */
  popDue(nowMs: number, isCurrent: (holdId: string, expiresAtMs: number) => boolean): string[] {
    const due: string[] = [];
    while (this.atMs.length > 0 && this.atMs[0]! <= nowMs) {
      const expiresAtMs = this.atMs[0]!;
      const holdId = this.pop();
      if (!due.includes(holdId) && isCurrent(holdId, expiresAtMs)) due.push(holdId);
    }
    return due;
  }

  /** Drops stale entries at the top so `peekMs` names a live expiry. */
  pruneStale(isCurrent: (holdId: string, expiresAtMs: number) => boolean): void {
    while (this.atMs.length > 0 && !isCurrent(this.holdIds[0]!, this.atMs[0]!)) this.pop();
  }

  private pop(): string {
    const top = this.holdIds[0]!;
    const lastAt = this.atMs.pop()!;
    const lastId = this.holdIds.pop()!;
    if (this.atMs.length > 0) {
      this.atMs[0] = lastAt;
      this.holdIds[0] = lastId;
      let index = 0;
      for (;;) {
        const left = index * 2 + 1;
        const right = left + 1;
        let smallest = index;
        if (left < this.atMs.length && this.atMs[left]! < this.atMs[smallest]!) smallest = left;
        if (right < this.atMs.length && this.atMs[right]! < this.atMs[smallest]!) smallest = right;
        if (smallest === index) break;
        this.swap(index, smallest);
        index = smallest;
      }
    }
    return top;
  }

  private swap(a: number, b: number): void {
    const at = this.atMs[a]!;
    this.atMs[a] = this.atMs[b]!;
    this.atMs[b] = at;
    const id = this.holdIds[a]!;
    this.holdIds[a] = this.holdIds[b]!;
    this.holdIds[b] = id;
  }
}
