/**
 * Writes a run's results: the full report as bench-results/load-<name>.json, the HTML page as
 * bench-results/load-<name>.html, and the headline figures as ONE JSON line on stdout.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadReport } from '../run-scenario.js';
import { renderHtml } from './html.js';

export const resultsDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench-results');

export function writeLoadResults(report: LoadReport, directory = resultsDir): { json: string; html: string } {
  mkdirSync(directory, { recursive: true });
  const json = join(directory, `load-${report.name}.json`);
  const html = join(directory, `load-${report.name}.html`);
  writeFileSync(json, `${JSON.stringify({ bench: `load-${report.name}`, ...report }, null, 2)}\n`);
  writeFileSync(html, renderHtml(report));
  process.stdout.write(`${JSON.stringify({ bench: `load-${report.name}`, finishedAt: report.finishedAt, ...report.headline })}\n`);
  return { json, html };
}
