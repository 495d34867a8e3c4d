import '../styles.css';
import type { OpsShowStatus, OpsStatus } from '../../../src/protocol/ops-schemas.js';
import { h, replaceChildren } from '../dom.js';

/**
 * The ops page: workers and their shows, per-show claims/s, holds and waiting rooms, journal
 * commit latency and batch sizes, refreshed every 2 s; pause/resume a waiting room; with several
 * workers, move a show to a worker and drain or undrain a worker. The admin
 * token stays in sessionStorage (this tab only).
 */
const tokenKey = 'holdfast:admin-token';
const refreshMs = 2_000;
const root = document.getElementById('ops')!;
const refreshLabel = document.getElementById('ops-refresh')!;
let timer: ReturnType<typeof setInterval> | null = null;
/** The refresh under way, if any; `refreshAgain` asks for one more after it (an action's fresh state must not be dropped). */
let inFlight: Promise<void> | null = null;
let refreshAgain = false;

class OpsError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const token = sessionStorage.getItem(tokenKey) ?? '';
  const response = await fetch(path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) {
    let detail = text;
    try {
      detail = (JSON.parse(text) as { detail?: string }).detail ?? text;
    } catch {
      // not a problem document
    }
    throw new OpsError(response.status, detail);
  }
  return JSON.parse(text) as T;
}

function askForToken(message?: string): void {
  if (timer !== null) clearInterval(timer);
  timer = null;
  refreshLabel.textContent = '';
  const input = h('input', { type: 'password', id: 'admin-token', name: 'token', autocomplete: 'current-password', required: true, size: 30 });
  const form = h(
    'form',
    { class: 'card stack', style: 'max-width:420px', 'aria-labelledby': 'token-title' },
    h('h1', { id: 'token-title' }, 'Ops sign-in'),
    h('label', { for: 'admin-token' }, 'Admin token (ADMIN_TOKEN)', input),
    message ? h('p', { class: 'error', role: 'alert' }, message) : null,
    h('button', { type: 'submit', class: 'primary' }, 'Open the ops page'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    sessionStorage.setItem(tokenKey, input.value.trim());
    start();
  });
  replaceChildren(root, form);
  input.focus();
}

function start(): void {
  if (timer !== null) clearInterval(timer);
  void refresh();
  // A timed refresh while one is under way is skipped, not queued: the next tick comes soon.
  timer = setInterval(() => {
    if (inFlight === null) void refresh();
  }, refreshMs);
}

/** Fetches and renders the status; called while one runs, it waits for that one and one more. */
function refresh(): Promise<void> {
  if (inFlight !== null) {
    refreshAgain = true;
    return inFlight;
  }
  inFlight = (async () => {
    try {
      do {
        refreshAgain = false;
        await refreshOnce();
      } while (refreshAgain);
    } finally {
      inFlight = null;
    }
  })();
  return inFlight;
}

async function refreshOnce(): Promise<void> {
  try {
    const status = await call<OpsStatus>('GET', '/v1/ops/status');
    // Re-rendering would close a worker list the operator has open; wait for the next refresh.
    if (!(document.activeElement instanceof HTMLSelectElement)) render(status);
    refreshLabel.textContent = `Updated ${new Date().toLocaleTimeString('en-US')} · every ${refreshMs / 1000} s`;
  } catch (error) {
    if (error instanceof OpsError && (error.status === 401 || error.status === 403)) {
      sessionStorage.removeItem(tokenKey);
      askForToken('That token was refused. Check ADMIN_TOKEN.');
    } else refreshLabel.textContent = `Refresh failed: ${error instanceof Error ? error.message : String(error)}`;
  }
}

const number = (value: number | null, digits = 0): string => (value === null ? '–' : value.toLocaleString('en-US', { maximumFractionDigits: digits }));

function render(status: OpsStatus): void {
  // Keep keyboard focus on the same control across refreshes.
  const focusedKey = (document.activeElement as HTMLElement | null)?.dataset['key'];
  const active = status.shows.filter((show) => show.active);
  const { journal } = status;
  const tile = (label: string, value: string, testId: string) => h('div', { class: 'card tile' }, h('span', { class: 'muted small' }, label), h('strong', { 'data-testid': testId }, value));
  replaceChildren(
    root,
    h('div', { class: 'row', style: 'justify-content:space-between;align-items:center' }, h('h1', {}, 'Operations'), h('button', { type: 'button', onclick: () => { sessionStorage.removeItem(tokenKey); askForToken(); } }, 'Sign out')),
    h(
      'section',
      { class: 'tiles', 'aria-label': 'Summary' },
      tile('Workers', String(status.workers.length), 'ops-workers'),
      tile('Active shows', String(active.length), 'ops-active-shows'),
      tile('Claims/s (all shows)', number(status.shows.reduce((sum, show) => sum + show.claims_per_s, 0), 1), 'ops-claims'),
      tile('Commit p50 / p99', `${number(journal.commit_p50_ms, 1)} / ${number(journal.commit_p99_ms, 1)} ms`, 'ops-commit'),
      tile('Batch size p50 / p99', `${number(journal.batch_size_p50)} / ${number(journal.batch_size_p99)}`, 'ops-batch'),
      tile('Group commits', number(journal.batches_total), 'ops-batches-total'),
    ),
    h('p', { class: 'muted small' }, `Journal figures cover the last ${journal.window_s} s; claims/s the last 10 s.`),
    h('h2', {}, 'Workers'),
    h(
      'table',
      { 'aria-label': 'Workers' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Worker'), h('th', { class: 'num' }, 'PID'), h('th', {}, 'Health'), h('th', {}, 'Shows'), status.sharded ? h('th', {}, 'Drain') : null)),
      h(
        'tbody',
        {},
        status.workers.map((worker) =>
          h(
            'tr',
            { 'data-worker-id': worker.worker_id },
            h('td', {}, worker.worker_id),
            h('td', { class: 'num' }, worker.pid === null ? '–' : String(worker.pid)),
            h('td', {}, h('span', { class: `badge ${worker.healthy ? 'good' : 'bad'}` }, worker.healthy ? 'healthy' : 'down')),
            h('td', {}, worker.shows.length === 0 ? h('span', { class: 'muted' }, 'none active') : worker.shows.join(', ')),
            status.sharded ? h('td', {}, drainControl(worker.worker_id, worker.draining)) : null,
          ),
        ),
      ),
    ),
    h('h2', { style: 'margin-top:1.5rem' }, 'Shows'),
    h(
      'div',
      { style: 'overflow:auto' },
      h(
        'table',
        { 'aria-label': 'Shows' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Show', 'Owner', 'State'].map((name) => h('th', {}, name)),
            ['Version', 'Claims/s', 'Active holds', 'Available', 'Mailbox', 'Watchers', 'Queue waiting', 'Serving'].map((name) => h('th', { class: 'num' }, name)),
            h('th', {}, 'Waiting room'),
            status.sharded ? h('th', {}, 'Move to') : null,
          ),
        ),
        h('tbody', {}, status.shows.map((show) => showRow(show, status.sharded ? status.workers.map((worker) => worker.worker_id) : null))),
      ),
    ),
  );
  if (focusedKey) root.querySelector<HTMLElement>(`[data-key="${CSS.escape(focusedKey)}"]`)?.focus();
}

/** A button that runs one ops action, then refreshes; failures are shown, the button re-enabled. */
function actionButton(label: string, ariaLabel: string, key: string, action: () => Promise<unknown>): HTMLButtonElement {
  const button = h('button', { type: 'button', 'data-key': key, 'aria-label': ariaLabel }, label);
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await action();
      await refresh();
    } catch (error) {
      alert(error instanceof Error ? error.message : String(error));
      button.disabled = false;
    }
  });
  return button;
}

function drainControl(workerId: string, draining: boolean): HTMLElement {
  return h(
    'span',
    { class: 'row', style: 'align-items:center' },
    draining ? h('span', { class: 'badge warn' }, 'draining') : null,
    actionButton(draining ? 'Undrain' : 'Drain', `${draining ? 'Undrain' : 'Drain'} worker ${workerId}`, `drain-${workerId}`, () =>
      call('POST', `/v1/ops/workers/${encodeURIComponent(workerId)}/drain`, { draining: !draining }),
    ),
  );
}

const moveTargets = new Map<string, string>();

/** Moving a show pins it to the chosen worker (the old owner finishes its batch and hands off). */
function moveControl(show: OpsShowStatus, workers: string[]): HTMLElement {
  // The choice survives the 2-second re-render, which rebuilds this row.
  const chosen = moveTargets.get(show.show_id) ?? show.owner_worker_id;
  const select = h('select', { 'aria-label': `Worker to move ${show.show_id} to`, 'data-key': `move-target-${show.show_id}` }, workers.map((worker) => h('option', { value: worker, ...(worker === chosen ? { selected: true } : {}) }, worker)));
  select.addEventListener('change', () => moveTargets.set(show.show_id, select.value));
  const button = actionButton('Move', `Move ${show.show_id} to the chosen worker`, `move-${show.show_id}`, () => call('POST', `/v1/ops/shows/${encodeURIComponent(show.show_id)}/move`, { worker_id: select.value }));
  return h('span', { class: 'row', style: 'align-items:center' }, select, button);
}

function showRow(show: OpsShowStatus, workers: string[] | null): HTMLElement {
  const queue = show.queue;
  let control: HTMLElement = h('span', { class: 'muted' }, 'none');
  if (queue !== null) {
    const button = h('button', { type: 'button', 'data-key': `queue-${show.show_id}`, 'data-testid': `queue-toggle-${show.show_id}`, 'aria-label': `${queue.paused ? 'Resume' : 'Pause'} the waiting room of ${show.show_id}` }, queue.paused ? 'Resume' : 'Pause');
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        await call('POST', `/v1/ops/shows/${encodeURIComponent(show.show_id)}/queue`, { paused: !queue.paused });
        await refresh();
      } catch (error) {
        alert(error instanceof Error ? error.message : String(error));
        button.disabled = false;
      }
    });
    control = h('span', { class: 'row', style: 'align-items:center' }, h('span', { class: `badge ${queue.paused ? 'warn' : 'good'}` }, queue.paused ? 'paused' : `admitting ${number(queue.rate_per_s)}/s`), button);
  }
  return h(
    'tr',
    { 'data-show-id': show.show_id },
    h('td', {}, show.show_id),
    h('td', {}, show.owner_worker_id ?? '–'),
    h('td', {}, h('span', { class: `badge ${show.active ? 'good' : ''}` }, show.active ? 'active' : 'idle')),
    h('td', { class: 'num' }, number(show.version)),
    h('td', { class: 'num', 'data-testid': 'claims' }, number(show.claims_per_s, 1)),
    h('td', { class: 'num', 'data-testid': 'active-holds' }, number(show.active_holds)),
    h('td', { class: 'num' }, number(show.items_available)),
    h('td', { class: 'num' }, number(show.mailbox_depth)),
    h('td', { class: 'num' }, number(show.watchers)),
    h('td', { class: 'num', 'data-testid': 'queue-waiting' }, queue === null ? '–' : number(queue.waiting)),
    h('td', { class: 'num' }, queue === null ? '–' : number(queue.serving)),
    h('td', {}, control),
    workers ? h('td', {}, moveControl(show, workers)) : null,
  );
}

if (sessionStorage.getItem(tokenKey)) start();
else askForToken();
