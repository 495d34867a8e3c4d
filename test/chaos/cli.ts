/**
 * `npm run chaos`: the chaos suite at CHAOS_LEVEL=full (more fuzz runs, longer contended runs,
 * bigger histories), then one JSON line of headline figures on stdout, also written to
 * bench-results/chaos.json. Progress (vitest's own output) goes to stderr. Exits with vitest's
 * status. Everything runs against servers on 127.0.0.1 that the tests start and stop.
 *
 *   npm run chaos                     # full level, one test file at a time
 *   CHAOS_LEVEL=short npm run chaos   # the CI level, with figures
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Figures } from './support/figures.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const figuresDir = mkdtempSync(join(tmpdir(), 'holdfast-chaos-'));
const level = process.env['CHAOS_LEVEL'] ?? 'full';
const startedMs = performance.now();

const status = await new Promise<number>((resolve) => {
  // One file at a time at the full level: each starts its own servers and load and bounds recovery
  // times, and side by side on 2 cores they starved each other (three timing bounds missed, all met
  // when run alone).
  const parallelism = level === 'full' ? ['--no-file-parallelism'] : [];
  const child = spawn(process.execPath, [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...parallelism, 'test/chaos'], {
    cwd: root,
    env: { ...process.env, CHAOS_LEVEL: level, CHAOS_FIGURES_DIR: figuresDir },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout!.pipe(process.stderr);
  child.on('exit', (code) => resolve(code ?? 1));
});

const totals: Figures = {};
for (const file of readdirSync(figuresDir)) {
  const part = JSON.parse(readFileSync(join(figuresDir, file), 'utf8')) as Figures;
  for (const [name, value] of Object.entries(part)) totals[name] = (totals[name] ?? 0) + value;
}
rmSync(figuresDir, { recursive: true, force: true });
const sum = (...names: string[]): number => names.reduce((total, name) => total + (totals[name] ?? 0), 0);

const result = {
  name: 'chaos',
  level,
  passed: status === 0,
  duration_s: Math.round((performance.now() - startedMs) / 100) / 10,
  bad_inputs_tried: sum('rest_bad_inputs_tried', 'socket_bad_inputs_tried', 'identity_bad_inputs_tried', 'slow_clients_opened'),
  answered_4xx: sum('rest_4xx_answered', 'socket_4xx_answered', 'identity_4xx_answered'),
  answered_5xx: sum('rest_5xx_answered', 'socket_5xx_answered', 'identity_5xx_answered'),
  slow_clients_cut_off: sum('slow_clients_cut_off'),
  state_changes_by_refused_requests: sum('rest_state_changes_by_refused_requests', 'socket_state_changes_by_refused_requests', 'identity_state_changes_by_refused_requests', 'slow_state_changes_by_refused_requests'),
  secrets_found_in_logs: sum('secrets_found_in_logs'),
  histories_checked: sum('histories_checked', 'core_histories_checked', 'core_histories_with_injected_double_grant'),
  violations: sum('violations', 'violations_in_correct_core_histories'),
  injected_double_sell_histories: sum('injected_runs', 'core_histories_with_injected_double_grant'),
  injected_double_sells_caught: sum('injected_runs_caught', 'injected_double_grants_caught'),
  holds_acknowledged: sum('holds_acknowledged'),
  orders_confirmed: sum('orders_confirmed'),
  // Infrastructure faults (test/chaos/faults/infra-*.test.ts); each file's details are in `figures`.
  postgres_restarts: sum('postgres_restarts'),
  postgres_restart_recovered_after_max_ms: sum('postgres_restart_recovered_after_max_ms'),
  postgres_proxy_connections_dropped: sum('postgres_proxy_connections_dropped'),
  postgres_proxy_load_hold_p99_ms: sum('postgres_proxy_load_hold_p99_ms'),
  redis_restarts: sum('redis_restarts'),
  redis_claims_elsewhere_failed: sum('redis_claims_elsewhere_failed'),
  infra_holds_lost: sum('postgres_restart_holds_lost', 'postgres_proxy_holds_lost', 'redis_holds_lost'),
  infra_audit_violations: sum('postgres_restart_audit_violations', 'postgres_proxy_audit_violations', 'redis_audit_violations'),
  // Process faults (test/chaos/faults/process-*.test.ts).
  worker_kills: sum('worker_kills'),
  worker_kill_served_again_max_ms: sum('worker_kill_served_again_max_ms'),
  worker_kill_served_again_median_ms: sum('worker_kill_served_again_median_ms'),
  server_kills: sum('server_kills'),
  server_kill_served_again_max_ms: sum('server_kill_served_again_max_ms'),
  clock_skew_spread_ms: sum('skew_spread_ms'),
  clock_skew_history_violations: sum('skew_history_violations'),
  outbox_consumer_down_ms: sum('outbox_consumer_down_ms'),
  outbox_events_lost: sum('outbox_events_lost'),
  process_holds_acknowledged: sum('worker_kill_holds_acknowledged', 'server_kill_holds_acknowledged', 'skew_holds_acknowledged', 'outbox_holds_acknowledged'),
  process_lost: sum('worker_kill_lost', 'server_kill_lost', 'skew_lost', 'outbox_events_lost'),
  process_oversold: sum('worker_kill_oversold', 'server_kill_oversold', 'skew_oversold'),
  process_double_charges: sum('worker_kill_double_charges', 'server_kill_double_charges', 'skew_double_charges'),
  process_audit_violations: sum('worker_kill_audit_violations', 'server_kill_audit_violations', 'skew_audit_violations', 'outbox_audit_violations'),
  figures: totals,
};
mkdirSync(join(root, 'bench-results'), { recursive: true });
writeFileSync(join(root, 'bench-results', 'chaos.json'), `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(status);
