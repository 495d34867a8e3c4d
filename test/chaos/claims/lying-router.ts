import type { CommandEnvelope } from '../../../src/actors/decide-batch.js';
import type { HoldView, ShowReply } from '../../../src/actors/messages.js';
import type { ShowRouter } from '../../../src/actors/show-router.js';

export interface Lie {
  holdId: string;
  seats: string[];
  /** The real hold that had the seats when the lie was told. */
  victimHoldId: string;
}

interface LiveHold {
  holdId: string;
  grantedAtMs: number;
  expiresAtMs: number;
}

/**
 * A deliberately broken router for the checker to catch: in front of the real one, it answers
 * some holds "ok" without asking the actor — for seats another fan holds right now (granted at
 * least `minAgeMs` ago, not about to expire, no release of it submitted). That is the double
 * sell a buggy cache or a split-brain owner would cause; everything else goes to the real router.
 */
export class LyingRouter implements ShowRouter {
  readonly lies: Lie[] = [];
  /** Seat → the real hold that has it, as far as the replies passing through tell. */
  private readonly live = new Map<string, LiveHold>();

  constructor(
    private readonly inner: ShowRouter,
    private readonly options: { liesMax: number; minAgeMs: number; holdTtlMs: number },
  ) {}

  async submit(showId: string, envelope: CommandEnvelope): Promise<ShowReply> {
    const { command } = envelope;
    const nowMs = Date.now();
    if (command.type === 'release_hold') this.forget(command.holdId);
    if (command.type === 'place_hold' && this.lies.length < this.options.liesMax && command.request.seats?.length) {
      const victims = command.request.seats.map((seat) => this.live.get(seat));
      const victim = victims[0];
      const lieable = victims.every((held) => held !== undefined && nowMs - held.grantedAtMs >= this.options.minAgeMs && held.expiresAtMs - nowMs >= this.options.minAgeMs);
      if (victim && lieable) return this.lie(showId, command.userId, command.request.seats, victim.holdId, nowMs);
    }
    const reply = await this.inner.submit(showId, envelope);
    if (reply.ok && reply.hold && command.type === 'place_hold') {
      for (const seat of reply.hold.seats) this.live.set(seat, { holdId: reply.hold.holdId, grantedAtMs: Date.now(), expiresAtMs: reply.hold.expiresAtMs });
    }
    if (reply.ok && reply.hold && command.type === 'pin_hold') {
      for (const [seat, held] of this.live) if (held.holdId === command.holdId) this.live.set(seat, { ...held, expiresAtMs: reply.hold.expiresAtMs });
    }
    return reply;
  }

  availability(showId: string) {
    return this.inner.availability(showId);
  }

  getHold(showId: string, holdId: string) {
    return this.inner.getHold(showId, holdId);
  }

  watch(...args: Parameters<ShowRouter['watch']>) {
    return this.inner.watch(...args);
  }

  stopAll() {
    return this.inner.stopAll();
  }

  private forget(holdId: string): void {
    for (const [seat, held] of this.live) if (held.holdId === holdId) this.live.delete(seat);
  }

  private lie(showId: string, userId: string, seats: string[], victimHoldId: string, nowMs: number): ShowReply {
    const holdId = `${showId}.hLIE${String(this.lies.length).padStart(8, '0')}`;
    this.lies.push({ holdId, seats, victimHoldId });
    const hold: HoldView = {
      holdId, showId, userId, status: 'held', seats, pools: [], expiresAtMs: nowMs + this.options.holdTtlMs, totalCents: 0, currency: 'USD',
      extensionsLeft: 0, orderId: null, split: false, offer: false,
    };
    return { ok: true, version: 0, decidedAtMs: nowMs, hold };
  }
}
