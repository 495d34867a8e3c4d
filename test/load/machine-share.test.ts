import { describe, expect, it } from 'vitest';
import { machineShare, parseCommitMetrics, sampleMachine, treeTicks, type MachineSample } from '../../load/machine-share.js';
import { parseMachineStat, parseProcessStat } from '../../bench/support/report.js';

describe('load machine share', () => {
  it('reads a /proc/<pid>/stat line whose command holds spaces and parentheses', () => {
    const line = '4242 (node (load) worker) S 4200 4242 4200 0 -1 4194560 1000 0 0 0 731 212 0 0 20 0 11 0 123 456 789';
    expect(parseProcessStat(line)).toEqual({ pid: 4242, command: 'node (load) worker', parentPid: 4200, cpuTicks: 943 });
    expect(parseProcessStat('garbage')).toBeNull();
  });

  it('reads busy and total ticks from /proc/stat, iowait as idle', () => {
    expect(parseMachineStat('cpu  100 5 30 800 20 1 4 2 0 0\ncpu0 50 2 15 400 10 0 2 1 0 0\n')).toEqual({ busyTicks: 142, totalTicks: 962 });
    expect(parseMachineStat('intr 1 2 3')).toBeNull();
  });

  it("sums the actors' group-commit counters over shows and ignores the buckets", () => {
    const text = [
      '# HELP holdfast_actor_batch_commands Commands per group commit',
      'holdfast_actor_batch_commands_bucket{le="1"} 3',
      'holdfast_actor_batch_commands_sum 410',
      'holdfast_actor_batch_commands_count 4',
      'holdfast_actor_commit_seconds_sum{show="a"} 0.25',
      'holdfast_actor_commit_seconds_sum{show="b"} 0.5',
      'holdfast_http_requests_total 9',
    ].join('\n');
    expect(parseCommitMetrics(text)).toEqual({ commits: 4, commands: 410, commitSeconds: 0.75 });
    expect(parseCommitMetrics('holdfast_http_requests_total 9')).toBeNull();
  });

  it('counts a process tree (cluster workers under the primary) once, and nothing of unknown roots', () => {
    const table = [
      { pid: 10, command: 'node', parentPid: 1, cpuTicks: 100 },
      { pid: 11, command: 'node', parentPid: 10, cpuTicks: 40 },
      { pid: 12, command: 'node', parentPid: 11, cpuTicks: 2 },
      { pid: 20, command: 'node', parentPid: 1, cpuTicks: 500 },
    ];
    expect(treeTicks(table, [10])).toBe(142);
    expect(treeTicks(table, [10, 11])).toBe(142);
    expect(treeTicks(table, [99])).toBe(0);
  });

  it('turns two samples into cores and µs per answered attempt', () => {
    const from: MachineSample = { atMs: 0, attempts: 1_000, serverS: 0, generatorS: 0, postgresS: 0, machineBusyS: 0, commits: { commits: 10, commands: 100, commitSeconds: 1 } };
    // 10 s, 20,000 attempts; the server used 7 s of CPU, the generator 6, PostgreSQL 3; the machine was 80% busy on 2 cores.
    const to: MachineSample = { atMs: 10_000, attempts: 21_000, serverS: 7, generatorS: 6, postgresS: 3, machineBusyS: 16, commits: { commits: 1_010, commands: 100_100, commitSeconds: 9 } };
    const share = machineShare(from, to, 2)!;
    expect(share.attemptsPerS).toBe(2_000);
    expect(share.cores).toEqual({ server: 0.7, generator: 0.6, postgres: 0.3, machineBusy: 1.6, machine: 2 });
    expect(share.usPerAttempt).toEqual({ server: 350, generator: 300, postgres: 150, machine: 800 });
    expect(share.groupCommits).toEqual({ perS: 100, commandsPerCommit: 100, meanCommitMs: 8, commitSecondsPerS: 0.8 });
    expect(machineShare(from, { ...to, commits: from.commits }, 2)!.groupCommits).toBeNull();
  });

  it.runIf(process.platform === 'linux')('samples this process from /proc', async () => {
    const first = (await sampleMachine([process.pid], [], null, 0))!;
    const until = Date.now() + 150;
    let spin = 0;
    while (Date.now() < until) spin += Math.sqrt(spin + 1);
    const second = (await sampleMachine([process.pid], [], null, 10))!;
    expect(second.serverS).toBeGreaterThan(first.serverS);
    expect(second.generatorS).toBe(0);
    expect(second.machineBusyS).toBeGreaterThan(first.machineBusyS);
    expect(machineShare(first, second, 2)!.cores.server).toBeGreaterThan(0);
  });
});
