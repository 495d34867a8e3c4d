import './styles.css';
import type { AppContext, View } from './app-context.js';
import { h, replaceChildren } from './dom.js';
import { describeError } from './errors.js';
import { Session } from './session.js';
import { checkoutView } from './views/checkout.js';
import { eventView } from './views/event.js';
import { startOfferBanner } from './views/offer-banner.js';
import { orderView } from './views/order.js';
import { ordersView } from './views/orders.js';
import { searchView } from './views/search.js';
import { showView } from './views/show.js';

/** Hash routes: the gateway serves one HTML file, every page is a view of it. */
const routes: [RegExp, View][] = [
  [/^#?\/?$/, searchView],
  [/^#\/event\/([^/]+)$/, eventView],
  [/^#\/show\/([^/]+)$/, showView],
  [/^#\/checkout\/([^/]+)$/, checkoutView],
  [/^#\/order\/([^/]+)$/, orderView],
  [/^#\/orders$/, ordersView],
];

const session = new Session();
const root = document.getElementById('app')!;
const ctx: AppContext = { session, root, navigate: (hash) => void (location.hash = hash) };
let cleanup: (() => void) | void = undefined;
let rendering = 0;

async function render(): Promise<void> {
  const token = ++rendering;
  cleanup?.();
  cleanup = undefined;
  const match = routes.map(([pattern, view]) => [location.hash.match(pattern), view] as const).find(([found]) => found !== null);
  replaceChildren(root, h('p', { class: 'muted' }, 'Loading…'));
  try {
    await session.ensure();
    if (match === undefined) {
      replaceChildren(root, h('h1', {}, 'Page not found'), h('p', {}, h('a', { href: '#/' }, 'Find events')));
      return;
    }
    const [found, view] = match;
    const done = await view(ctx, found!.slice(1).map((part) => decodeURIComponent(part)));
    if (token !== rendering) done?.();
    else cleanup = done;
    root.focus({ preventScroll: true });
  } catch (error) {
    if (token === rendering) replaceChildren(root, h('div', { class: 'notice bad', role: 'alert' }, describeError(error)));
  }
}

function renderSession(): void {
  const host = document.getElementById('session')!;
  const input = h('input', { 'aria-label': 'Switch to user id', size: 10, value: session.userId ?? '', pattern: '[A-Za-z0-9_@.-]{3,64}' });
  const form = h(
    'form',
    { class: 'session' },
    h('span', {}, 'Signed in as ', h('strong', { 'data-testid': 'user-id' }, session.userId ?? '…')),
    input,
    h('button', { type: 'submit' }, 'Switch'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const userId = input.value.trim();
    if (userId.length >= 3 && userId !== session.userId) void session.signIn(userId).then(render, (error: unknown) => alert(describeError(error)));
  });
  replaceChildren(host, form);
}

session.onChange(renderSession);
window.addEventListener('hashchange', () => void render());
void session.ensure().then(() => {
  renderSession();
  startOfferBanner(ctx);
}, () => undefined);
void render();
