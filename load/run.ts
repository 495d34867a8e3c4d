/**
 * `npm run load -- --scenario <onsale|hot-seats|browse|ga|hotel> [flags]` (`--help` lists them).
 * Progress on stderr every second; at the end the headline as one JSON line on stdout, the full
 * report in bench-results/load-<name>.json and .html. Exits non-zero when the audit found a
 * violation (listed on stderr) or the run failed.
 */
import { parseLoadArgs } from './options.js';
import { writeLoadResults } from './report/write.js';
import { runScenario } from './run-scenario.js';

async function main(): Promise<void> {
  const options = parseLoadArgs(process.argv.slice(2));
  if (options === null) return;
  const report = await runScenario(options, { onProgress: options.progress ? (line) => process.stderr.write(`${line}\n`) : undefined });
  const paths = writeLoadResults(report);
  process.stderr.write(`report: ${paths.json}\n        ${paths.html}\n`);
  if (!report.ok) {
    for (const run of report.runs) if (!run.audit.ok) process.stderr.write(`AUDIT FAILED (${run.engine}):\n  ${run.audit.violations.join('\n  ')}\n`);
    process.exitCode = 1;
  }
}

main().then(
  // Sockets of a failed worker or a lingering keep-alive must not hold the process open.
  () => setTimeout(() => process.exit(process.exitCode ?? 0), 100).unref(),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);
