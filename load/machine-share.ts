/**
 * Where the machine went during a load run's steady window: CPU of the server (with its cluster
 * workers), of the load generator and of the local PostgreSQL, read from /proc at the window's two
 * ends, and the show actors' group commits read from the server's /metrics. Server, generator and
 * database share the cores, so "µs of the machine per answered attempt" is what bounds a ratio.
 * Linux only: elsewhere the sample is null and the report leaves the section out.
 */
import { clockTicksPerSecond, machineBusySeconds, postgresCpuSeconds, processTable, round, type ProcessStat } from '../bench/support/report.js';

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
  /** CPU seconds so far of each group, and busy seconds of the whole machine. */
  serverS: number;
  generatorS: number;
  postgresS: number;
  machineBusyS: number;
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

/** Ticks of the given processes and all their descendants. */
export function treeTicks(table: ProcessStat[], roots: number[]): number {
  const children = new Map<number, number[]>();
  for (const stat of table) {
    const siblings = children.get(stat.parentPid);
    if (siblings === undefined) children.set(stat.parentPid, [stat.pid]);
    else siblings.push(stat.pid);
  }
  const byPid = new Map(table.map((stat) => [stat.pid, stat]));
  const seen = new Set<number>();
  const pending = roots.filter((pid) => byPid.has(pid));
  let ticks = 0;
  while (pending.length > 0) {
    const pid = pending.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    ticks += byPid.get(pid)!.cpuTicks;
    pending.push(...(children.get(pid) ?? []));
  }
  return ticks;
}

/** Reads the machine now; null off Linux. `attempts` is the run's answered-attempt counter at this moment. */
export async function sampleMachine(serverPids: number[], generatorPids: number[], metricsUrl: string | null, attempts: number): Promise<MachineSample | null> {
  const table = processTable();
  const machineBusyS = machineBusySeconds();
  if (table === null || machineBusyS === null) return null;
  const commits = metricsUrl === null
    ? null
    : await fetch(metricsUrl, { signal: AbortSignal.timeout(5_000) })
      .then(async (response) => (response.ok ? parseCommitMetrics(await response.text()) : null))
      .catch(() => null);
  return {
    atMs: Date.now(),
    attempts,
    serverS: treeTicks(table, serverPids) / clockTicksPerSecond,
    generatorS: treeTicks(table, generatorPids) / clockTicksPerSecond,
    postgresS: postgresCpuSeconds(table) ?? 0,
    machineBusyS,
    commits,
  };
}

/** The share of the machine between two samples (processes that exited meanwhile are not counted). */
export function machineShare(from: MachineSample, to: MachineSample, cpus: number): MachineShare | null {
  const windowS = (to.atMs - from.atMs) / 1000;
  const attempts = to.attempts - from.attempts;
  if (windowS <= 0) return null;
  const server = Math.max(0, to.serverS - from.serverS);
  const generator = Math.max(0, to.generatorS - from.generatorS);
  const postgres = Math.max(0, to.postgresS - from.postgresS);
  const machineBusy = Math.max(0, to.machineBusyS - from.machineBusyS);
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
