/**
 * What a load worker counts and times, and how the parent adds the workers up. Latencies are HDR
 * histograms (µs, 3 significant digits); workers send the histograms of each ~1 s interval
 * (compressed base64) with their cumulative counters, and the parent merges them into run totals
 * and a per-second timeline.
 */
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';

export const latencyNames = ['hold', 'order', 'confirm', 'release', 'diff', 'connect', 'admission', 'signIn'] as const;
export type LatencyName = (typeof latencyNames)[number];

export const counterNames = [
  /** Hold requests that got an answer (granted or refused with a code). */
  'holdAttempts',
  'holdsOk',
  'holdRefusals',
  'seatsHeld',
  'ordersCreated',
  /** Orders the client saw confirmed, and the tickets (seats or units) they carry. */
  'paid',
  'itemsSold',
  /** Confirm calls beyond the first of one Pay intent (same Idempotency-Key). */
  'mashConfirms',
  'abandonedWalkAway',
  'abandonedReleased',
  'latePayments',
  /** Late payments the server answered `refunded` (captured after the window, money returned). */
  'lateRefunded',
  'releases',
  'diffs',
  'diffGaps',
  'admitted',
  /** onsale with --tickets-per-fan: fans who bought every ticket they wanted and left the shop. */
  'fansDone',
  /** Calls that threw something other than an expected refusal (after the SDK's retries). */
  'errors',
  /** REST attempts the SDK retried (network failure, timeout, retryable problem). */
  'retries',
] as const;
export type CounterName = (typeof counterNames)[number];

export const gaugeNames = ['connected', 'queued', 'holding', 'fansActive', 'httpQueued'] as const;
export type GaugeName = (typeof gaugeNames)[number];

export type Counters = Record<CounterName, number>;
export type Gauges = Record<GaugeName, number>;

export function emptyCounters(): Counters {
  return Object.fromEntries(counterNames.map((name) => [name, 0])) as Counters;
}

export function emptyGauges(): Gauges {
  return Object.fromEntries(gaugeNames.map((name) => [name, 0])) as Gauges;
}

export function newHistogram(): Histogram {
  return build({ numberOfSignificantValueDigits: 3 });
}

export interface IntervalReport {
  counters: Counters;
  gauges: Gauges;
  /** Refusals and errors by code, cumulative: `refusal:seat_unavailable`, `error:overloaded`… */
  codes: Record<string, number>;
  /** Histograms of this interval only (compressed base64), by latency name. */
  histograms: Partial<Record<LatencyName, string>>;
}

/** One worker's counters, gauges and the histograms of the current interval. */
export class WorkerMetrics {
  readonly counters = emptyCounters();
  readonly gauges = emptyGauges();
  readonly codes: Record<string, number> = {};
  private interval = new Map<LatencyName, Histogram>();

  count(name: CounterName, by = 1): void {
    this.counters[name] += by;
  }

  gauge(name: GaugeName, by: number): void {
    this.gauges[name] += by;
  }

  code(kind: 'refusal' | 'error' | 'background', code: string): void {
    const key = `${kind}:${code}`;
    this.codes[key] = (this.codes[key] ?? 0) + 1;
  }

  recordMs(name: LatencyName, ms: number): void {
    let histogram = this.interval.get(name);
    if (histogram === undefined) {
      histogram = newHistogram();
      this.interval.set(name, histogram);
    }
    histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  /** Times `work` into `name` (also when it throws). */
  async time<T>(name: LatencyName, work: () => Promise<T>): Promise<T> {
    const startedAt = performance.now();
    try {
      return await work();
    } finally {
      this.recordMs(name, performance.now() - startedAt);
    }
  }

  /** The report of the interval since the last one (its histograms are reset). */
  takeInterval(): IntervalReport {
    const histograms: Partial<Record<LatencyName, string>> = {};
    for (const [name, histogram] of this.interval) histograms[name] = encodeIntoCompressedBase64(histogram);
    this.interval = new Map();
    return { counters: { ...this.counters }, gauges: { ...this.gauges }, codes: { ...this.codes }, histograms };
  }
}

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  meanMs: number;
}

const round = (value: number, digits = 2): number => Math.round(value * 10 ** digits) / 10 ** digits;

export function summarize(histogram: Histogram): LatencySummary {
  if (histogram.totalCount === 0) return { count: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0, meanMs: 0 };
  const at = (percentile: number): number => round(histogram.getValueAtPercentile(percentile) / 1000);
  return { count: histogram.totalCount, p50Ms: at(50), p90Ms: at(90), p99Ms: at(99), p999Ms: at(99.9), maxMs: round(histogram.maxValue / 1000), meanMs: round(histogram.mean / 1000) };
}

export function decodeInto(target: Histogram, encoded: string): void {
  target.add(decodeFromCompressedBase64(encoded));
}
