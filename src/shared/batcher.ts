/**
 * Group commit for anything: items added while a flush is in flight wait and go together in
 * the next one, so a burst of N costs a few round trips instead of N.
 */
export class Batcher<Item, Result> {
  private pending: { item: Item; resolve: (result: Result) => void; reject: (error: unknown) => void }[] = [];
  private flushing = false;

  constructor(
    private readonly flush: (items: Item[]) => Promise<Result[]>,
    private readonly batchMax: number,
  ) {}

  add(item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      this.run();
    });
  }

  private run(): void {
    if (this.flushing || this.pending.length === 0) return;
    this.flushing = true;
    const batch = this.pending.splice(0, this.batchMax);
    this.flush(batch.map((entry) => entry.item)).then(
      (results) => batch.forEach((entry, index) => entry.resolve(results[index]!)),
      (error: unknown) => batch.forEach((entry) => entry.reject(error)),
    ).finally(() => {
      this.flushing = false;
      this.run();
    });
  }
}
