/**
 * The floor under both hot-seats engines: a ShowRouter that refuses every hold at once — no actor,
 * no database — behind the same gateway (sessions, validation, rate limits, idempotency key and
 * fingerprint, socket.io and msgpack) and the same load generator. Its answered attempts/s divided
 * by the baseline's, in the same run, is the most any engine behind this gateway could reach on
 * this machine; the gap between it and the show actor is what deciding and journaling durably cost.
 *
 * A measuring instrument, not an engine to sell seats with: the refusal has the actor's shape (code,
 * detail, the seats) so the answers weigh what the actor's refusals weigh. Holds are never granted,
 * so fans never release (the other engines' fans release the ~10% they get, a little extra work
 * this floor is spared: it is a ceiling, slightly generous). Everything else goes to the real router.
 */
import type { CommandEnvelope } from '../../src/actors/decide-batch.js';
import type { HoldView, ShowReply } from '../../src/actors/messages.js';
import { reject } from '../../src/actors/messages.js';
import type { DiffListener } from '../../src/actors/show-actor.js';
import type { ShowRouter } from '../../src/actors/show-router.js';
import type { AvailabilitySnapshot } from '../../src/actors/seat-map-diff.js';

export class GatewayOnlyRouter implements ShowRouter {
  constructor(private readonly delegate: ShowRouter) {}

  submit(showId: string, envelope: CommandEnvelope): Promise<ShowReply> {
    const { command } = envelope;
    if (command.type === 'place_hold') {
      const seats = command.request.seats ?? [];
      return Promise.resolve(reject('seat_unavailable', `no longer available: ${seats.join(', ')}`, { seats }));
    }
    return this.delegate.submit(showId, envelope);
  }

  availability(showId: string): Promise<AvailabilitySnapshot | null> {
    return this.delegate.availability(showId);
  }

  getHold(showId: string, holdId: string): Promise<HoldView | null> {
    return this.delegate.getHold(showId, holdId);
  }

  watch(showId: string, listener: DiffListener): Promise<() => void> {
    return this.delegate.watch(showId, listener);
  }

  stopAll(): Promise<void> {
    return this.delegate.stopAll();
  }
}
