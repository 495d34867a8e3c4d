import type { QueuePlace } from '../../admission/queue-math.js';
import type { ServingUpdate, WaitingRoomService } from '../../admission/waiting-room.js';
import { type QueueAdmittedMessage, type QueueServingMessage } from '../../protocol/socket-events.js';
import type { Logger } from '../../shared/logger.js';

interface Waiter {
  socketId: string;
  userId: string;
  place: QueuePlace;
  number: number | null;
}

/**
 * Live waiting-room pushes for this process's sockets: one `queue:serving` broadcast per show
 * per tick (every client derives its own position), and `queue:admitted` with a fresh
 * admission token to each socket whose number the counter has passed. Waiters are kept per show
 * sorted by number, so a tick costs O(newly admitted), not O(queued).
 */
export class QueueFanout {
  private readonly waiting = new Map<string, Waiter[]>();

  constructor(
    private readonly room: WaitingRoomService,
    private readonly broadcast: (showId: string, message: QueueServingMessage) => void,
    private readonly pushAdmitted: (socketId: string, message: QueueAdmittedMessage) => void,
    private readonly logger: Logger,
  ) {}

  add(showId: string, socketId: string, userId: string, place: QueuePlace, number: number | null): void {
    const list = this.waiting.get(showId) ?? [];
    if (list.some((waiter) => waiter.socketId === socketId)) return;
    list.push({ socketId, userId, place, number });
    list.sort(byNumber);
    this.waiting.set(showId, list);
  }

  removeSocket(socketId: string): void {
    for (const [showId, list] of this.waiting) {
      const kept = list.filter((waiter) => waiter.socketId !== socketId);
      if (kept.length === 0) this.waiting.delete(showId);
      else this.waiting.set(showId, kept);
    }
  }

  async onServing(update: ServingUpdate): Promise<void> {
    this.broadcast(update.showId, { show_id: update.showId, serving: update.serving, rate: update.ratePerS, paused: update.paused, sold_out: update.soldOut, server_time_ms: Date.now() });
    const list = this.waiting.get(update.showId);
    if (list === undefined) return;
    if (list.some((waiter) => waiter.number === null)) {
      for (const waiter of list) if (waiter.number === null) waiter.number = await this.room.numberOf(update.showId, waiter.place);
      list.sort(byNumber);
    }
    let admitted = 0;
    while (admitted < list.length && list[admitted]!.number !== null && list[admitted]!.number! < update.serving) admitted += 1;
    if (admitted === 0) return;
    const settings = await this.room.admissionTtlOf(update.showId);
    for (const waiter of list.splice(0, admitted)) {
      const { token, expiresAtMs } = this.room.mintAdmission(waiter.userId, update.showId, settings);
      this.pushAdmitted(waiter.socketId, { show_id: update.showId, admission_token: token, expires_at_ms: expiresAtMs });
    }
    if (list.length === 0) this.waiting.delete(update.showId);
    this.logger.debug({ showId: update.showId, admitted }, 'admission tokens pushed');
  }
}

function byNumber(a: Waiter, b: Waiter): number {
  return (a.number ?? Number.MAX_SAFE_INTEGER) - (b.number ?? Number.MAX_SAFE_INTEGER);
}
