/**
 * The server's clock as seen from this device. Every reply that carries `server_time_ms` (holds,
 * queue status, seat-map snapshots) is a sample: offset = server time − the device time halfway
 * through the round trip. The estimate is the median of the recent samples, so one slow or
 * replayed reply cannot move it. Countdowns (hold expiry, payment window, admission) are computed
 * on the server's clock: a phone whose clock is minutes off still shows the right time left.
 */
export interface ClockSample {
  offsetMs: number;
  rttMs: number;
}

export type Stop = () => void;

export class ServerClock {
  private readonly samples: ClockSample[] = [];
  private estimate = 0;

  constructor(
    /** The device clock (ms since epoch). Injectable for tests. */
    readonly deviceNow: () => number = () => Date.now(),
    private readonly samplesMax = 15,
    /** Round trips longer than this say little about the offset and are ignored. */
    private readonly rttMaxMs = 10_000,
  ) {}

  /** Records a reply's server time, given device times just before sending and just after receiving. */
  addSample(serverTimeMs: number, sentAtDeviceMs: number, receivedAtDeviceMs: number): void {
    const rttMs = receivedAtDeviceMs - sentAtDeviceMs;
    if (!Number.isFinite(serverTimeMs) || rttMs < 0 || rttMs > this.rttMaxMs) return;
    this.samples.push({ offsetMs: serverTimeMs - (sentAtDeviceMs + rttMs / 2), rttMs });
    if (this.samples.length > this.samplesMax) this.samples.shift();
    const sorted = this.samples.map((sample) => sample.offsetMs).sort((a, b) => a - b);
    const middle = sorted.length >> 1;
    this.estimate = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  }

  /** Server time minus device time, in ms (0 until the first sample). */
  get offsetMs(): number {
    return this.estimate;
  }

  get sampleCount(): number {
    return this.samples.length;
  }

  /** The server's "now", estimated. */
  now(): number {
    return this.deviceNow() + this.estimate;
  }

  /** Ms left until `deadlineMs` (a server timestamp such as `expires_at_ms`), never negative. */
  remainingMs(deadlineMs: number): number {
    return Math.max(0, deadlineMs - this.now());
  }

  /**
   * Calls `onTick(remainingMs)` now and every `intervalMs` until the server-clock deadline, then
   * once with 0 and stops. Returns a function that stops it early.
   */
  countdown(deadlineMs: number, onTick: (remainingMs: number) => void, options: { intervalMs?: number } = {}): Stop {
    const intervalMs = options.intervalMs ?? 250;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = (): void => {
      if (stopped) return;
      const remaining = this.remainingMs(deadlineMs);
      onTick(remaining);
      if (remaining <= 0) {
        stopped = true;
        return;
      }
      timer = setTimeout(tick, Math.min(intervalMs, remaining));
    };
    tick();
    return () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    };
  }
}

/** `m:ss` for a countdown display. */
export function formatRemaining(remainingMs: number): string {
  const totalSeconds = Math.ceil(Math.max(0, remainingMs) / 1000);
  const minutes = Math.floor(totalSeconds / 60);
  return `${minutes}:${String(totalSeconds % 60).padStart(2, '0')}`;
}
