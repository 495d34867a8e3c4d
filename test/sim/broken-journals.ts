import type { AcquiredLease, JournalBatch, StoredSnapshot } from '../../src/persistence/journal.js';
import { MemoryJournal } from '../../src/persistence/memory-journal.js';

/**
 * Deliberately broken journals: each breaks one guarantee the actor relies on. The simulator
 * must catch every one of them — proof that its checks can fail.
 */

/** Acknowledges every third batch that has events without storing it. */
export class LyingJournal extends MemoryJournal {
  private appends = 0;

  override async append(batch: JournalBatch): Promise<void> {
    if (batch.events.length > 0) {
      this.appends += 1;
      if (this.appends % 3 === 0) return;
    }
    return super.append(batch);
  }
}

/** Skips the epoch check: a commit from any owner is accepted as if it held the newest lease. */
export class FencelessJournal extends MemoryJournal {
  private newestEpoch = 0;

  override async acquireLease(showId: string): Promise<AcquiredLease> {
    const lease = await super.acquireLease(showId);
    this.newestEpoch = lease.epoch;
    return lease;
  }

  override async append(batch: JournalBatch): Promise<void> {
    return super.append({ ...batch, epoch: this.newestEpoch });
  }

  override async writeSnapshot(showId: string, _epoch: number, snapshot: StoredSnapshot): Promise<void> {
    return super.writeSnapshot(showId, this.newestEpoch, snapshot);
  }
}

/** Commits events but silently drops the idempotency records that travel with them. */
export class ForgetfulJournal extends MemoryJournal {
  override async append(batch: JournalBatch): Promise<void> {
    return super.append({ ...batch, idempotencyRecords: [] });
  }
}

export const brokenJournals = {
  lying: () => new LyingJournal(),
  fenceless: () => new FencelessJournal(),
  forgetful: () => new ForgetfulJournal(),
} as const;
