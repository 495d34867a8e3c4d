import { HoldfastError, type QueueState, type QueueTracker, type Stop } from '../../../client-sdk/src/index.js';
import type { AppContext } from '../app-context.js';
import { announce, h, replaceChildren } from '../dom.js';
import { dateTime, eta, remaining } from '../format.js';

export interface QueueOutcome {
  tracker: QueueTracker;
  /** Stops following the line and the admission countdown. */
  stop: Stop;
}

/**
 * The waiting room: joins the show's line (solving its proof of work when asked), shows the
 * live position, ETA and pauses, and resolves once this fan is admitted. The queue ticket is kept
 * per user and show, so a reload keeps the same place.
 */
export async function waitInQueue(ctx: AppContext, host: HTMLElement, showId: string, opensAt: string | undefined, onCleanup: (stop: Stop) => void): Promise<QueueOutcome> {
  const { client } = ctx.session;
  const ticketKey = `holdfast:queue:${ctx.session.userId}:${showId}`;
  const title = h('h2', {}, 'You are in the waiting room');
  const position = h('div', { class: 'queue-position', 'data-testid': 'queue-position', 'aria-live': 'off' }, '…');
  const detail = h('p', { 'data-testid': 'queue-detail' }, 'Joining the line…');
  const bar = h('div', { style: 'width:0%' });
  let firstPosition: number | null = null;
  let lastAnnounced = 0;
  replaceChildren(
    host,
    h(
      'section',
      { class: 'card stack', 'aria-labelledby': 'queue-title', 'data-testid': 'waiting-room' },
      h('div', { id: 'queue-title' }, title),
      h('p', { class: 'muted' }, 'Keep this page open. When it is your turn the seat map opens by itself.'),
      h('div', {}, h('span', { class: 'muted small' }, 'Your place in line'), position),
      h('div', { class: 'progress', role: 'progressbar', 'aria-label': 'Progress through the line', 'aria-valuemin': '0', 'aria-valuemax': '100' }, bar),
      detail,
    ),
  );
  const render = (state: QueueState) => {
    if (state.phase === 'solving') detail.textContent = 'Checking you are not a bot (a moment of computing)…';
    if (state.phase === 'pre_queue') {
      position.textContent = '–';
      detail.textContent = `The sale has not started yet. Everyone who arrives before it does gets a random place in line when it opens.`;
    }
    if (state.phase === 'queued' && state.position !== null) {
      firstPosition ??= state.position;
      position.textContent = state.position.toLocaleString('en-US');
      position.dataset['position'] = String(state.position);
      const done = firstPosition > 1 ? ((firstPosition - state.position) / (firstPosition - 1)) * 100 : 100;
      bar.style.width = `${Math.max(2, Math.min(100, done))}%`;
      bar.parentElement!.setAttribute('aria-valuenow', String(Math.round(done)));
      detail.textContent = state.paused ? 'Admission is paused for a moment. You keep your place.' : `Estimated wait: ${eta(state.etaS)}.`;
      // Announce now and then, not at every tick.
      if (Math.abs(lastAnnounced - state.position) >= Math.max(1, Math.ceil(state.position / 10))) {
        lastAnnounced = state.position;
        announce(`Place in line ${state.position}. ${detail.textContent}`);
      }
    }
    if (state.phase === 'admitted') {
      title.textContent = 'It is your turn!';
      position.textContent = '0';
      position.dataset['position'] = '0';
      bar.style.width = '100%';
      detail.textContent = 'Opening the seat map…';
      announce('It is your turn. The seat map is open.');
    }
  };

  const join = async (ticket: string | undefined): Promise<QueueTracker> =>
    client.joinQueue(showId, { ...(ticket ? { ticket } : {}), onProofOfWork: () => render({ ...emptyState(showId), phase: 'solving' }), pollIntervalMs: 3_000 });
  let tracker: QueueTracker;
  try {
    tracker = await join(localStorage.getItem(ticketKey) ?? undefined);
  } catch (error) {
    if (error instanceof HoldfastError && error.code === 'show_not_on_sale') {
      detail.textContent = opensAt ? `The waiting room opens at ${dateTime(opensAt)}. Come back then.` : 'The waiting room is not open yet.';
      title.textContent = 'Not open yet';
      throw error;
    }
    // A ticket from another session or an old sale: join afresh.
    localStorage.removeItem(ticketKey);
    tracker = await join(undefined);
  }
  if (tracker.ticket) localStorage.setItem(ticketKey, tracker.ticket);
  render(tracker.state);
  let lastUpdateMs = Date.now();
  const unsubscribe = tracker.subscribe((state) => {
    lastUpdateMs = Date.now();
    render(state);
  });
  // Belt and braces: if the live line goes quiet (a lost push, a socket that reconnected as
  // someone else), ask the server where we stand rather than show a frozen number.
  const watchdog = setInterval(() => {
    if (tracker.state.phase === 'queued' && Date.now() - lastUpdateMs > 4_000) {
      lastUpdateMs = Date.now();
      tracker.refresh().catch(() => undefined);
    }
  }, 1_000);
  const stop = () => {
    clearInterval(watchdog);
    unsubscribe();
    tracker.stop();
  };
  // Leaving the page while still in line stops following it (the place is kept by the ticket).
  onCleanup(stop);
  try {
    await tracker.admitted();
  } catch (error) {
    stop();
    throw error;
  }
  clearInterval(watchdog);
  render(tracker.state);
  return { tracker, stop };
}

function emptyState(showId: string): QueueState {
  return { showId, phase: 'joining', ticket: null, number: null, position: null, etaS: null, serving: null, rate: 0, paused: false, admissionToken: null, admissionExpiresAtMs: null };
}

/** "Your turn ends in 9:41": the admission token's lifetime on the server clock. */
export function admissionTimer(tracker: QueueTracker): { element: HTMLElement; stop: Stop } {
  const text = h('span', { 'data-testid': 'admission-countdown' }, '');
  const element = h('p', { class: 'small muted' }, 'Your turn to buy ends in ', text, '.');
  let stop: Stop = () => undefined;
  try {
    stop = tracker.admissionCountdown((ms) => {
      text.textContent = remaining(ms);
    }, { intervalMs: 1_000 });
  } catch {
    element.hidden = true;
  }
  return { element, stop };
}
