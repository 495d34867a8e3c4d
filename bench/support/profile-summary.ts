/**
 * Summary of a V8 .cpuprofile (from WindowProfiler): busy share of the window, and where the
 * busy time went by function (self time) and by package / source directory.
 */
import { readFileSync } from 'node:fs';
import { round } from './report.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  fn: string;
  where: string;
  /** Share of the profile's busy (non-idle) samples. */
  cpuPct: number;
}

export interface ProfileSummary {
  path: string;
  /** Share of the window's samples that were not idle (JS, native code or GC). */
  busyPct: number;
  top: ProfileEntry[];
  byPackage: Record<string, number>;
}

function packageOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1]!;
  const source = /\/(src|bench)\/(.*)$/.exec(url);
  if (source) return `${source[1]}/${source[2]!.split('/').slice(0, -1).join('/') || '.'}`;
  if (url.startsWith('node:')) return url;
  return url.split('/').slice(-2).join('/');
}

export function summarizeProfile(path: string, topN = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, index) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));
  let totalUs = 0;
  let idleUs = 0;
  const byFunction = new Map<string, { fn: string; where: string; us: number }>();
  const byPackageUs = new Map<string, number>();
  for (const [id, us] of selfUs) {
    totalUs += us;
    const frame = byId.get(id)!.callFrame;
    const fn = frame.functionName || '(anonymous)';
    if (fn === '(idle)') {
      idleUs += us;
      continue;
    }
    const where = frame.url ? `${frame.url.replace(/^.*\/(node_modules|src|bench)\//, '$1/')}:${frame.lineNumber + 1}` : '';
    const key = `${fn}@${where}`;
    const entry = byFunction.get(key) ?? { fn, where, us: 0 };
    entry.us += us;
    byFunction.set(key, entry);
    const pkg = packageOf(frame.url, fn);
    byPackageUs.set(pkg, (byPackageUs.get(pkg) ?? 0) + us);
  }
  const busyUs = Math.max(1, totalUs - idleUs);
  const top = [...byFunction.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, topN)
    .map((entry) => ({ fn: entry.fn, where: entry.where, cpuPct: round((entry.us / busyUs) * 100, 1) }));
  const byPackage: Record<string, number> = {};
  for (const [pkg, us] of [...byPackageUs].sort((a, b) => b[1] - a[1]).slice(0, 20)) byPackage[pkg] = round((us / busyUs) * 100, 1);
  return { path, busyPct: round(((totalUs - idleUs) / Math.max(1, totalUs)) * 100, 1), top, byPackage };
}
