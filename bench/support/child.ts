/**
 * Forked bench children speaking typed IPC, and /proc readings of any process (CPU seconds,
 * RSS, run-queue wait). Used by bench/queue.ts.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { progress } from './report.js';

/** A forked child; `next(type)` waits for its next message of that type. A `{ type: 'error' }` message rejects every waiter. */
export class Child<In extends { type: string }, Out extends { type: string }> {
  private readonly waiting = new Map<string, { resolve: (message: Out) => void; reject: (error: Error) => void }[]>();
  private readonly inbox: Out[] = [];
  private readonly listeners: ((message: Out) => void)[] = [];
  private exited: Error | null = null;
  readonly exit: Promise<void>;

  constructor(
    readonly name: string,
    readonly process: ChildProcess,
  ) {
    process.stdout?.on('data', (chunk: Buffer) => globalThis.process.stderr.write(chunk));
    process.on('message', (message: Out) => this.deliver(message));
    this.exit = new Promise((resolve) => {
      process.once('exit', (code, signal) => {
        this.exited = new Error(`${name} exited (code ${code}, signal ${signal})`);
        for (const waiters of this.waiting.values()) for (const waiter of waiters) waiter.reject(this.exited);
        this.waiting.clear();
        resolve();
      });
    });
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  /** Every message of this type goes to `listener` instead of the inbox (progress reports). */
  on(listener: (message: Out) => void): void {
    this.listeners.push(listener);
  }

  send(message: In): void {
    if (this.process.connected) this.process.send(message);
  }

  private deliver(message: Out): void {
    if (message.type === 'error') {
      const error = new Error(`${this.name}: ${(message as { message?: string }).message ?? 'failed'}`);
      for (const waiters of this.waiting.values()) for (const waiter of waiters) waiter.reject(error);
      this.waiting.clear();
      return;
    }
    if (message.type === 'progress') {
      for (const listener of this.listeners) listener(message);
      return;
    }
    const waiters = this.waiting.get(message.type);
    const waiter = waiters?.shift();
    if (waiter) waiter.resolve(message);
    else this.inbox.push(message);
  }

  next<T extends Out['type']>(type: T, timeoutMs: number): Promise<Extract<Out, { type: T }>> {
    const queued = this.inbox.findIndex((message) => message.type === type);
    if (queued >= 0) return Promise.resolve(this.inbox.splice(queued, 1)[0] as Extract<Out, { type: T }>);
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no "${type}" within ${timeoutMs} ms`)), timeoutMs);
      const list = this.waiting.get(type) ?? [];
      list.push({
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message as Extract<Out, { type: T }>);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.waiting.set(type, list);
    });
  }

  /** Asks politely (`closeMessage`), then ends it by its pid if it lingers. */
  async stop(closeMessage: In, graceMs: number): Promise<void> {
    if (this.exited) return;
    this.send(closeMessage);
    const timer = setTimeout(() => {
      if (!this.exited && this.process.pid !== undefined) {
        progress(`${this.name} (pid ${this.process.pid}) did not exit within ${graceMs} ms: SIGKILL`);
        this.process.kill('SIGKILL');
      }
    }, graceMs);
    await this.exit;
    clearTimeout(timer);
  }
}

/** Forks a TypeScript script (run through tsx) with its params as argv[2] JSON; stdout is relayed to stderr by Child. */
export function forkTs(path: string, params: unknown, env: Record<string, string>, execArgv: string[] = []): ChildProcess {
  return fork(path, [JSON.stringify(params)], {
    execArgv: ['--import', 'tsx', ...execArgv],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
}

const clockTicksPerSecond = 100; // USER_HZ on Linux

export function procCpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond;
  } catch {
    return null;
  }
}

/** VmRSS (and VmHWM, the peak) of a process from /proc/<pid>/status, in kB. */
export function procMemoryKb(pid: number | undefined): { rssKb: number; peakKb: number } | null {
  if (pid === undefined) return null;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /VmRSS:\s+(\d+) kB/.exec(status);
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
    return rss ? { rssKb: Number(rss[1]), peakKb: hwm ? Number(hwm[1]) : Number(rss[1]) } : null;
  } catch {
    return null;
  }
}

/** Seconds the process's threads spent runnable but waiting for a CPU (schedstat field 2, summed over threads). */
export function procRunQueueWaitS(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    let waitNs = 0;
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const fields = readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').trim().split(' ');
      waitNs += Number(fields[1] ?? 0);
    }
    return waitNs / 1e9;
  } catch {
    return null;
  }
}

export function machineTicks(): { busy: number; total: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const ticks = line.trim().split(/\s+/).slice(1).map(Number);
    const total = ticks.reduce((sum, value) => sum + value, 0);
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0); // idle + iowait
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

export function openFileLimit(): number | null {
  try {
    const match = /Max open files\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'utf8'));
    return match === null || match[1] === 'unlimited' ? null : Number(match[1]);
  } catch {
    return null;
  }
}
