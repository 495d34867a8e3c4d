/**
 * The HTML page of a load run: headline, throughput and latency over time as inline SVG line
 * charts (no script, no CDN: the file opens anywhere), latency percentiles, outcomes by code and
 * the audit. One section per engine.
 */
import type { MachineShare } from '../machine-share.js';
import type { EngineRun, LoadReport } from '../run-scenario.js';

interface Series {
  name: string;
  color: string;
  points: [x: number, y: number][];
}

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 2.5, 5, 10].find((candidate) => candidate * magnitude >= value) ?? 10;
  return step * magnitude;
}

export function lineChart(title: string, unit: string, series: Series[], width = 920, height = 260): string {
  const left = 64;
  const right = 16;
  const top = 28;
  const bottom = 36;
  const xs = series.flatMap((line) => line.points.map(([x]) => x));
  const ys = series.flatMap((line) => line.points.map(([, y]) => y));
  const xMax = Math.max(1, ...xs);
  const yMax = niceMax(Math.max(0, ...ys));
  const x = (value: number): number => left + (value / xMax) * (width - left - right);
  const y = (value: number): number => top + (1 - value / yMax) * (height - top - bottom);
  const grid = [0, 0.25, 0.5, 0.75, 1]
    .map((share) => {
      const value = yMax * share;
      return `<line x1="${left}" x2="${width - right}" y1="${y(value)}" y2="${y(value)}" stroke="#e3e3e3"/><text x="${left - 6}" y="${y(value) + 4}" text-anchor="end">${Number(value.toPrecision(3)).toLocaleString('en-US')}</text>`;
    })
    .join('');
  const xTicks = Array.from({ length: 6 }, (_, index) => (xMax * index) / 5)
    .map((value) => `<text x="${x(value)}" y="${height - bottom + 16}" text-anchor="middle">${Math.round(value)}s</text>`)
    .join('');
  const lines = series
    .filter((line) => line.points.length > 0)
    .map((line) => `<polyline fill="none" stroke="${line.color}" stroke-width="1.8" points="${line.points.map(([px, py]) => `${x(px).toFixed(1)},${y(py).toFixed(1)}`).join(' ')}"/>`)
    .join('');
  const legend = series.map((line, index) => `<rect x="${left + index * 170}" y="8" width="12" height="12" fill="${line.color}"/><text x="${left + index * 170 + 16}" y="18">${escape(line.name)}</text>`).join('');
  return `<figure><figcaption>${escape(title)} <small>(${escape(unit)})</small></figcaption><svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-size="11" font-family="sans-serif">${grid}${xTicks}${lines}${legend}</svg></figure>`;
}

const table = (rows: (string | number)[][], header: string[]): string =>
  `<table><thead><tr>${header.map((cell) => `<th>${escape(cell)}</th>`).join('')}</tr></thead><tbody>${rows.map((row) => `<tr>${row.map((cell) => `<td>${escape(typeof cell === 'number' ? cell.toLocaleString('en-US') : cell)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;

function engineSection(report: LoadReport, run: EngineRun): string {
  const series = (name: string, color: string, pick: (point: EngineRun['timeline'][number]) => number | null): Series => ({
    name, color, points: run.timeline.flatMap((point) => { const value = pick(point); return value === null ? [] : [[point.t, value] as [number, number]]; }),
  });
  const throughput = lineChart('Throughput', 'per second', [
    series('hold attempts answered/s', '#1f77b4', (point) => point.holdAttemptsPerS),
    series('holds granted/s', '#2ca02c', (point) => point.holdsPerS),
    series('orders paid/s', '#ff7f0e', (point) => point.paidPerS),
    series('errors/s', '#d62728', (point) => point.errorsPerS),
  ]);
  const latency = lineChart('Latency per second', 'ms', [
    series('hold p50', '#2ca02c', (point) => point.holdP50Ms),
    series('hold p99', '#1f77b4', (point) => point.holdP99Ms),
    series('confirm p99', '#ff7f0e', (point) => (point.confirmP99Ms > 0 ? point.confirmP99Ms : null)),
    series('diff delivery p99', '#9467bd', (point) => (point.diffP99Ms > 0 ? point.diffP99Ms : null)),
  ]);
  const population = lineChart('Fans', 'count', [
    series('connected', '#1f77b4', (point) => point.connected),
    series('queued', '#8c564b', (point) => point.queued),
    series('holding', '#2ca02c', (point) => point.holding),
    series('units sold', '#ff7f0e', (point) => point.soldUnits),
  ]);
  const percentiles = table(
    Object.entries(run.latency).filter(([, summary]) => summary.count > 0).map(([name, summary]) => [name, summary.count, summary.p50Ms, summary.p90Ms, summary.p99Ms, summary.p999Ms, summary.maxMs]),
    ['latency (ms)', 'count', 'p50', 'p90', 'p99', 'p99.9', 'max'],
  );
  const counters = table(Object.entries(run.counters).map(([name, value]) => [name, value]), ['counter', 'value']);
  const codes = table(Object.entries(run.codes).map(([code, value]) => [code, value]), ['outcome by code', 'count']);
  const audit = run.audit.ok
    ? `<p class="ok">Audit clean: ${escape(Object.entries(run.audit.figures).map(([name, value]) => `${name} ${value.toLocaleString('en-US')}`).join(', '))}</p>`
    : `<p class="bad">Audit FAILED</p><ul>${run.audit.violations.map((violation) => `<li>${escape(violation)}</li>`).join('')}</ul>`;
  const machine = run.machine === null ? '' : machineParagraph(run.machine);
  return `<section><h2>Engine: ${escape(run.engine)}${run.round > 1 || report.comparison?.rounds.length ? `, round ${run.round}` : ''}</h2>
<p>${run.fans.toLocaleString('en-US')} fans (${run.watchers} watching), ${run.workers} worker(s); ${run.capacity.toLocaleString('en-US')} units; ${run.soldUnits.toLocaleString('en-US')} sold;
ended by ${escape(run.endedBy)} after ${run.loadSeconds} s${run.sellOutS === null ? '' : `; sold out ${run.sellOutS} s after on-sale`}; peak connected ${run.peaks.connected.toLocaleString('en-US')}.
Rates: ${run.rates.holdAttemptsPerS} hold attempts/s (steady ${run.rates.steadyHoldAttemptsPerS}/s), ${run.rates.holdsPerS} holds/s, ${run.rates.paidPerS} orders paid/s.</p>
${audit}${machine}${throughput}${latency}${population}<div class="tables">${percentiles}${counters}${codes}</div></section>`;
}

function machineParagraph(share: MachineShare): string {
  const { cores, usPerAttempt, groupCommits } = share;
  const commits = groupCommits === null
    ? ''
    : ` Group commits: ${groupCommits.perS}/s of ${groupCommits.commandsPerCommit} commands, ${groupCommits.meanCommitMs} ms each from send to answer (${groupCommits.commitSecondsPerS} s of commit per second).`;
  return `<p>Over the steady window (${share.windowS} s, ${share.attemptsPerS} answered attempts/s): server ${cores.server} cores, load generator ${cores.generator}, PostgreSQL ${cores.postgres}; machine ${cores.machineBusy} of ${cores.machine} cores busy.
CPU per answered attempt: server ${usPerAttempt.server} µs, generator ${usPerAttempt.generator} µs, PostgreSQL ${usPerAttempt.postgres} µs, whole machine ${usPerAttempt.machine} µs.${commits}</p>`;
}

function comparisonSection(comparison: NonNullable<LoadReport['comparison']>): string {
  const withGateway = comparison.gatewayRatio !== null;
  const floor = withGateway
    ? `<p><b>gateway ÷ baseline:</b> ×${comparison.gatewayRatio} — every hold refused before any actor or database, behind the same gateway and generator: the most any engine reaches here.</p>`
    : '';
  return `<p><b>holdfast ÷ baseline${comparison.rounds.length > 1 ? `, median of ${comparison.rounds.length} rounds` : ''}:</b> answered attempts/s ×${comparison.attemptsPerSRatio}, p99 ×${comparison.p99Ratio} — target ${escape(comparison.target)}: <b>${comparison.met ? 'met' : 'missed'}</b></p>${floor}
<table><tr><th>round</th><th>first</th><th>holdfast attempts/s</th><th>baseline attempts/s</th><th>ratio</th><th>holdfast p99 ms</th><th>baseline p99 ms</th><th>p99 ratio</th>${withGateway ? '<th>gateway attempts/s</th><th>gateway ratio</th>' : ''}</tr>
${comparison.rounds.map((entry) => `<tr><td>${entry.round}</td><td>${escape(entry.first)}</td><td>${entry.holdfastAttemptsPerS}</td><td>${entry.baselineAttemptsPerS}</td><td>×${entry.attemptsPerSRatio}</td><td>${entry.holdfastP99Ms}</td><td>${entry.baselineP99Ms}</td><td>×${entry.p99Ratio}</td>${withGateway ? `<td>${entry.gatewayAttemptsPerS ?? ''}</td><td>${entry.gatewayRatio === null ? '' : `×${entry.gatewayRatio}`}</td>` : ''}</tr>`).join('\n')}</table>`;
}

export function renderHtml(report: LoadReport): string {
  const comparison = report.comparison ? comparisonSection(report.comparison) : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Holdfast load: ${escape(report.name)}</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;max-width:980px;color:#222}figure{margin:12px 0}figcaption{font-weight:600}table{border-collapse:collapse;margin:8px 16px 8px 0;font-size:13px;vertical-align:top}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}.tables{display:flex;flex-wrap:wrap;align-items:flex-start}.ok{color:#1a7f37;font-weight:600}.bad{color:#c00;font-weight:700}code{background:#f4f4f4;padding:1px 4px}</style></head>
<body><h1>Holdfast load run: ${escape(report.scenario)}</h1>
<p>${escape(report.startedAt)} → ${escape(report.finishedAt)}; ${report.machine.cpus} × ${escape(report.machine.cpuModel)}, Node ${escape(report.machine.node)}, load average ${report.machine.loadAverage.join(' / ')}.
Server, load generator and PostgreSQL share this machine.${report.machine.commitLatency ? ` One durable single-row commit on its PostgreSQL took ${report.machine.commitLatency.p50Us} µs (p50; p99 ${report.machine.commitLatency.p99Us} µs): the disk's flush time bounds the baseline.` : ''}</p>
<p>Headline: <code>${escape(JSON.stringify(report.headline))}</code></p>${comparison}
${report.runs.map((run) => engineSection(report, run)).join('\n')}
</body></html>
`;
}
