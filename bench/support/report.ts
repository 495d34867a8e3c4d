/**
 * What every bench shares: HDR histograms for latencies and distributions, progress lines on
 * stderr, CPU accounting (this process and, when local, the PostgreSQL server processes), and
 * `writeResult`, which prints the figures as ONE JSON line on stdout and keeps them in
 * bench-results/<name>.json.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { build, type Histogram } from 'hdr-histogram-js';

export const resultsDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench-results');

const startedAt = performance.now();

/** A line on stderr, stamped with the seconds since the bench started (stdout carries only the result). */
export function progress(message: string): void {
  process.stderr.write(`[bench +${((performance.now() - startedAt) / 1000).toFixed(1)}s] ${message}\n`);
}

/** Calls `line()` every `everyMs` and prints what it returns; returns the stop function. */
export function ticker(everyMs: number, line: () => string): () => void {
  const timer = setInterval(() => progress(line()), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

export function round(value: number, digits = 2): number {
  if (!Number.isFinite(value)) return value;
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export interface LatencySummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

/** Latencies recorded in microseconds (3 significant digits), reported in milliseconds. */
export class LatencyHistogram {
  private readonly histogram: Histogram = build({ numberOfSignificantValueDigits: 3 });

  recordMs(ms: number): void {
    this.histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  percentileMs(percentile: number): number {
    return this.histogram.totalCount === 0 ? 0 : this.histogram.getValueAtPercentile(percentile) / 1000;
  }

  summary(): LatencySummary {
    const h = this.histogram;
    const empty = h.totalCount === 0;
    return {
      count: h.totalCount,
      meanMs: empty ? 0 : round(h.mean / 1000, 3),
      p50Ms: round(this.percentileMs(50), 3),
      p90Ms: round(this.percentileMs(90), 3),
      p99Ms: round(this.percentileMs(99), 3),
      p999Ms: round(this.percentileMs(99.9), 3),
      maxMs: empty ? 0 : round(h.maxValue / 1000, 3),
    };
  }
}

export interface DistributionSummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Power-of-two buckets, "lo-hi": how many values fell in each (empty buckets left out). */
  buckets: Record<string, number>;
}

/** Integer values (batch sizes, counts): HDR percentiles plus power-of-two buckets for the shape. */
export class Distribution {
  private readonly histogram: Histogram = build({ numberOfSignificantValueDigits: 3 });
  private readonly bucketCounts: number[] = [];

  record(value: number): void {
    const v = Math.max(0, Math.round(value));
    this.histogram.recordValue(v);
    const bucket = v === 0 ? 0 : Math.floor(Math.log2(v)) + 1;
    this.bucketCounts[bucket] = (this.bucketCounts[bucket] ?? 0) + 1;
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  summary(): DistributionSummary {
    const h = this.histogram;
    const empty = h.totalCount === 0;
    const buckets: Record<string, number> = {};
    this.bucketCounts.forEach((count, bucket) => {
      if (!count) return;
      const lo = bucket === 0 ? 0 : 2 ** (bucket - 1);
      const hi = bucket === 0 ? 0 : 2 ** bucket - 1;
      buckets[lo === hi ? String(lo) : `${lo}-${hi}`] = count;
    });
    return {
      count: h.totalCount,
      mean: empty ? 0 : round(h.mean, 2),
      p50: empty ? 0 : h.getValueAtPercentile(50),
      p90: empty ? 0 : h.getValueAtPercentile(90),
      p99: empty ? 0 : h.getValueAtPercentile(99),
      max: empty ? 0 : h.maxValue,
      buckets,
    };
  }
}

export interface CpuSample {
  atMs: number;
  process: NodeJS.CpuUsage;
  /** Summed user+system seconds of every process named `postgres` visible in /proc; null when none is. */
  postgresS: number | null;
  /** Busy CPU seconds of the whole machine (all processes) from /proc/stat; null off Linux. */
  machineBusyS: number | null;
  elu: ReturnType<typeof performance.eventLoopUtilization>;
}

/** /proc reports CPU time in USER_HZ, 100 on every Linux build this runs on. */
export const clockTicksPerSecond = 100;

export interface ProcessStat {
  pid: number;
  command: string;
  parentPid: number;
  /** user + system CPU, in clock ticks. */
  cpuTicks: number;
}

/** One line of /proc/<pid>/stat; the command may hold spaces and parentheses, so split after its last ')'. */
export function parseProcessStat(line: string): ProcessStat | null {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const fields = line.slice(close + 2).split(' ');
  // After "(comm)" the state is index 0, so ppid (4th overall) is 1, utime (14th) 11 and stime (15th) 12.
  const parentPid = Number(fields[1]);
  const cpuTicks = Number(fields[11]) + Number(fields[12]);
  if (!Number.isFinite(parentPid) || !Number.isFinite(cpuTicks)) return null;
  return { pid: Number(line.slice(0, open).trim()), command: line.slice(open + 1, close), parentPid, cpuTicks };
}

/** Every process visible in /proc; null off Linux. */
export function processTable(): ProcessStat[] | null {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  const table: ProcessStat[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = parseProcessStat(readFileSync(`/proc/${entry}/stat`, 'utf8'));
      if (stat !== null) table.push(stat);
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return table;
}

/** CPU seconds used so far by the local PostgreSQL server (postmaster, backends, walwriter...); null when none is visible. */
export function postgresCpuSeconds(table: ProcessStat[] | null = processTable()): number | null {
  const postgres = table?.filter((stat) => stat.command === 'postgres') ?? [];
  return postgres.length === 0 ? null : postgres.reduce((sum, stat) => sum + stat.cpuTicks, 0) / clockTicksPerSecond;
}

/** Busy and total ticks of all CPUs, from the first line of /proc/stat (iowait counts as idle). */
export function parseMachineStat(text: string): { busyTicks: number; totalTicks: number } | null {
  const line = text.split('\n', 1)[0] ?? '';
  if (!line.startsWith('cpu ')) return null;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  if ([user, nice, system, idle, iowait, irq, softirq, steal].some((value) => value === undefined || !Number.isFinite(value))) return null;
  const busyTicks = user! + nice! + system! + irq! + softirq! + steal!;
  return { busyTicks, totalTicks: busyTicks + idle! + iowait! };
}

/** Busy CPU seconds of the whole machine so far; null off Linux. */
export function machineBusySeconds(): number | null {
  try {
    const ticks = parseMachineStat(readFileSync('/proc/stat', 'utf8'));
    return ticks === null ? null : ticks.busyTicks / clockTicksPerSecond;
  } catch {
    return null;
  }
}

export function cpuSample(): CpuSample {
  return { atMs: performance.now(), process: process.cpuUsage(), postgresS: postgresCpuSeconds(), machineBusyS: machineBusySeconds(), elu: performance.eventLoopUtilization() };
}

export interface CpuUse {
  wallS: number;
  /** CPU seconds of this Node process, and the same as cores kept busy on average. */
  nodeCpuS: number;
  nodeCores: number;
  /** Share of wall time the event loop was busy (1 = never idle: the Node process is the bottleneck). */
  nodeEventLoopUtilization: number;
  postgresCpuS: number | null;
  postgresCores: number | null;
  /** Cores kept busy by everything else on the machine meanwhile (noise from other work); null when unknown. */
  otherCores: number | null;
  machineCores: number;
}

export function cpuSince(start: CpuSample): CpuUse {
  const end = cpuSample();
  const wallS = (end.atMs - start.atMs) / 1000;
  const nodeCpuS = (end.process.user - start.process.user + end.process.system - start.process.system) / 1e6;
  const postgresCpuS = end.postgresS !== null && start.postgresS !== null ? end.postgresS - start.postgresS : null;
  const machineBusyS = end.machineBusyS !== null && start.machineBusyS !== null ? end.machineBusyS - start.machineBusyS : null;
  const otherS = machineBusyS === null ? null : Math.max(0, machineBusyS - nodeCpuS - (postgresCpuS ?? 0));
  return {
    wallS: round(wallS, 2),
    nodeCpuS: round(nodeCpuS, 2),
    nodeCores: round(nodeCpuS / wallS, 2),
    nodeEventLoopUtilization: round(performance.eventLoopUtilization(end.elu, start.elu).utilization, 3),
    postgresCpuS: postgresCpuS === null ? null : round(postgresCpuS, 2),
    postgresCores: postgresCpuS === null ? null : round(postgresCpuS / wallS, 2),
    otherCores: otherS === null ? null : round(otherS / wallS, 2),
    machineCores: os.cpus().length,
  };
}

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  totalMemoryMb: number;
  loadAverage1m: number;
  platform: string;
  node: string;
  postgres: string | null;
}

/** The machine the figures came from; `postgresVersion` is `show server_version` (null without a database). */
export function machineInfo(postgresVersion: string | null): MachineInfo {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    totalMemoryMb: Math.round(os.totalmem() / 2 ** 20),
    loadAverage1m: round(os.loadavg()[0] ?? 0, 2),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    postgres: postgresVersion,
  };
}

/** Prints `figures` as one JSON line on stdout and writes them (pretty) to bench-results/<name>.json. */
export function writeResult(name: string, figures: Record<string, unknown>): string {
  const result = { bench: name, finishedAt: new Date().toISOString(), ...figures };
  mkdirSync(resultsDir, { recursive: true });
  const path = join(resultsDir, `${name}.json`);
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  progress(`result written to ${path}`);
  return path;
}
