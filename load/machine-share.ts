/**
 * Where the machine went during a load run's steady window: CPU of the server (with its cluster
 * workers), of the load generator and of the local PostgreSQL, read from /proc at the window's two
 * ends, and the show actors' group commits read from the server's /metrics. Server, generator and
 * database share the cores, so "µs of the machine per answered attempt" is what bounds a ratio.
 * Linux only: elsewhere the sample is null and the report leaves the section out.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

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
  // After the command: state(3) ppid(4) … utime(14) stime(15), numbered as in proc(5).
  const parentPid = Number(fields[1]);
  const cpuTicks = Number(fields[11]) + Number(fields[12]);
  if (!Number.isFinite(parentPid) || !Number.isFinite(cpuTicks)) return null;
  return { pid: Number(line.slice(0, open).trim()), command: line.slice(open + 1, close), parentPid, cpuTicks };
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

export interface CommitFigures {
  commits: number;
  commands: number;
  commitSeconds: number;
}

/** The actor's group-commit counters from a Prometheus text page (summed over shows); null when absent. */
export function parseCommitMetrics(text: string): CommitFigures | null {
  const sums = { holdfast_actor_batch_commands_count: 0, holdfast_actor_batch_commands_sum: 0, holdfast_actor_commit_seconds_sum: 0 };
  let seen = false;
  for (const line of text.split('\n')) {
    const match = /^(holdfast_actor_batch_commands_count|holdfast_actor_batch_commands_sum|holdfast_actor_commit_seconds_sum)(?:\{[^}]*\})?\s+(\S+)/.exec(line);
    if (match === null) continue;
    sums[match[1] as keyof typeof sums] += Number(match[2]);
    seen = true;
  }
  return seen ? { commits: sums.holdfast_actor_batch_commands_count, commands: sums.holdfast_actor_batch_commands_sum, commitSeconds: sums.holdfast_actor_commit_seconds_sum } : null;
}

export interface MachineSample {
  atMs: number;
  attempts: number;
  serverTicks: number;
  generatorTicks: number;
  postgresTicks: number;
  machine: { busyTicks: number; totalTicks: number };
  commits: CommitFigures | null;
}

export interface MachineShare {
  windowS: number;
  attempts: number;
  attemptsPerS: number;
  /** Cores busy on average over the window. */
  cores: { server: number; generator: number; postgres: number; machineBusy: number; machine: number };
  /** CPU µs per answered hold attempt. */
  usPerAttempt: { server: number; generator: number; postgres: number; machine: number };
  /** The show actors' group commits over the window (holdfast only; null when the server has none); commitSecondsPerS sums over shows, so with one show it is the share of the time a commit is in flight. */
  groupCommits: { perS: number; commandsPerCommit: number; meanCommitMs: number; commitSecondsPerS: number } | null;
}

let ticksPerSecond: number | null = null;

export function clockTicksPerSecond(): number {
  if (ticksPerSecond === null) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100; // Linux's USER_HZ on every common build
    }
  }
  return ticksPerSecond;
}

function processTable(): ProcessStat[] {
  const table: ProcessStat[] = [];
  for (const entry of readdirSync('/proc')) {
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

/** Ticks of the given processes and all their descendants. */
export function treeTicks(table: ProcessStat[], roots: number[]): number {
  const children = new Map<number, ProcessStat[]>();
  for (const stat of table) children.set(stat.parentPid, [...(children.get(stat.parentPid) ?? []), stat]);
  const byPid = new Map(table.map((stat) => [stat.pid, stat]));
  const seen = new Set<number>();
  const pending = roots.filter((pid) => byPid.has(pid));
  let ticks = 0;
  while (pending.length > 0) {
    const pid = pending.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    ticks += byPid.get(pid)!.cpuTicks;
    for (const child of children.get(pid) ?? []) pending.push(child.pid);
  }
  return ticks;
}

/** Reads the machine now; null off Linux. `attempts` is the run's answered-attempt counter at this moment. */
export async function sampleMachine(serverPids: number[], generatorPids: number[], metricsUrl: string | null, attempts: number): Promise<MachineSample | null> {
  if (process.platform !== 'linux') return null;
  let machine: { busyTicks: number; totalTicks: number } | null;
  let table: ProcessStat[];
  try {
    machine = parseMachineStat(readFileSync('/proc/stat', 'utf8'));
    table = processTable();
  } catch {
    return null;
  }
  if (machine === null) return null;
  let commits: CommitFigures | null = null;
  if (metricsUrl !== null) {
    commits = await fetch(metricsUrl, { signal: AbortSignal.timeout(5_000) })
      .then(async (response) => (response.ok ? parseCommitMetrics(await response.text()) : null))
      .catch(() => null);
  }
  return {
    atMs: Date.now(),
    attempts,
    serverTicks: treeTicks(table, serverPids),
    generatorTicks: treeTicks(table, generatorPids),
    postgresTicks: table.filter((stat) => stat.command === 'postgres').reduce((sum, stat) => sum + stat.cpuTicks, 0),
    machine,
    commits,
  };
}

const round = (value: number, digits: number): number => (Number.isFinite(value) ? Math.round(value * 10 ** digits) / 10 ** digits : 0);

/** The share of the machine between two samples (processes that exited meanwhile are not counted). */
export function machineShare(from: MachineSample, to: MachineSample, cpus: number): MachineShare | null {
  const windowS = (to.atMs - from.atMs) / 1000;
  const attempts = to.attempts - from.attempts;
  if (windowS <= 0) return null;
  const hz = clockTicksPerSecond();
  const seconds = (ticks: number): number => Math.max(0, ticks) / hz;
  const server = seconds(to.serverTicks - from.serverTicks);
  const generator = seconds(to.generatorTicks - from.generatorTicks);
  const postgres = seconds(to.postgresTicks - from.postgresTicks);
  const busyShare = (to.machine.busyTicks - from.machine.busyTicks) / Math.max(1, to.machine.totalTicks - from.machine.totalTicks);
  const machineBusy = busyShare * cpus * windowS;
  const perAttempt = (cpuSeconds: number): number => (attempts > 0 ? round((cpuSeconds * 1e6) / attempts, 1) : 0);
  let groupCommits: MachineShare['groupCommits'] = null;
  if (from.commits !== null && to.commits !== null && to.commits.commits > from.commits.commits) {
    const commits = to.commits.commits - from.commits.commits;
    const commitSeconds = to.commits.commitSeconds - from.commits.commitSeconds;
    groupCommits = {
      perS: round(commits / windowS, 1),
      commandsPerCommit: round((to.commits.commands - from.commits.commands) / commits, 1),
      meanCommitMs: round((commitSeconds * 1000) / commits, 2),
      commitSecondsPerS: round(commitSeconds / windowS, 2),
    };
  }
  return {
    windowS: round(windowS, 1),
    attempts,
    attemptsPerS: round(attempts / windowS, 1),
    cores: { server: round(server / windowS, 2), generator: round(generator / windowS, 2), postgres: round(postgres / windowS, 2), machineBusy: round(machineBusy / windowS, 2), machine: cpus },
    usPerAttempt: { server: perAttempt(server), generator: perAttempt(generator), postgres: perAttempt(postgres), machine: perAttempt(machineBusy) },
    groupCommits,
  };
}
