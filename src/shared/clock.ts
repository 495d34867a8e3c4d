/** Time as the shell sees it; tests and the simulator inject their own. */
export interface Clock {
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };

/** A clock `skewMs` ahead of `base` (behind when negative): CLOCK_SKEW_MS, for tests of skewed workers. */
export function skewedClock(skewMs: number, base: Clock = systemClock): Clock {
  return skewMs === 0 ? base : { nowMs: () => base.nowMs() + skewMs };
}

/** Timers behind an interface so the simulator can run them on virtual time. */
export interface Timers {
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Runs `callback` after pending I/O callbacks (setImmediate); absent: callers run it at once. */
  defer?(callback: () => void): void;
}

export const systemTimers: Timers = {
  setTimeout: (callback, delayMs) => {
    const handle = setTimeout(callback, delayMs);
    handle.unref();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  defer: (callback) => void setImmediate(callback),
};
