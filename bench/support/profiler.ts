/**
 * A V8 CPU profile of a window of this process (not its whole life), through the inspector:
 * the fanout bench's children profile the load window only. Open the .cpuprofile in Chrome
 * DevTools or summarize it with `summarizeProfile` (bench/fanout.ts).
 */
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';

export class WindowProfiler {
  private session: Session | null = null;

  async start(samplingIntervalUs = 500): Promise<void> {
    if (this.session !== null) return;
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: samplingIntervalUs });
    await session.post('Profiler.start');
    this.session = session;
  }

  /** Stops and writes the profile to `path`; false when none was running. */
  async stop(path: string): Promise<boolean> {
    const session = this.session;
    if (session === null) return false;
    this.session = null;
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    await writeFile(path, JSON.stringify(profile));
    return true;
  }
}
