import { h, replaceChildren } from '../dom.js';
import { money, priceRange } from '../format.js';
import { sectionTitle, type SeatGeometry, type SectionInfo } from './geometry.js';
import { statusColours, tierColour } from './palette.js';

export interface SeatListState {
  seatStatus(): Uint8Array;
  selected: ReadonlySet<number>;
  mine: ReadonlySet<number>;
}

export interface SeatListEvents {
  onToggleSeat(seat: number): void;
  onFocusSection(section: SectionInfo): void;
}

/**
 * The seat map for keyboards and screen readers: a list of section buttons (name, price range,
 * seats available) and, for the chosen section, a listbox of its seats laid out row by row.
 * Arrow keys move within a row and between rows, Home/End jump to a row's ends, Page Up/Down
 * skip five rows, Enter or Space chooses a seat. Each seat says where it is, its price and its
 * flags: "Section 112, row F, seat 14, $85, accessible".
 */
export class SeatList {
  readonly element: HTMLElement;
  private readonly sectionButtons: HTMLButtonElement[] = [];
  private readonly gridHost = h('div');
  private grid: HTMLElement | null = null;
  private section: SectionInfo | null = null;
  private active = -1;
  private readonly options = new Map<number, HTMLElement>();
  private countsTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly geometry: SeatGeometry,
    private readonly state: SeatListState,
    private readonly events: SeatListEvents,
  ) {
    const list = h('ul', { class: 'sections', 'aria-label': 'Sections' });
    for (const section of geometry.sections) {
      const button = h('button', { type: 'button', 'aria-pressed': 'false', 'data-section': section.id, onclick: () => this.openSection(section, true) });
      this.sectionButtons.push(button);
      list.append(h('li', {}, button));
    }
    this.element = h(
      'section',
      { class: 'card', 'aria-labelledby': 'seat-list-title' },
      h('h2', { id: 'seat-list-title' }, 'Choose by section'),
      h('p', { class: 'muted small' }, 'Pick a section, then move between seats with the arrow keys and press Enter or Space to choose one.'),
      list,
      this.gridHost,
    );
    this.refreshCounts();
  }

  /** Re-reads seat statuses of the touched seats (and, at most twice a second, the section counts). */
  update(touchedSeats: readonly number[] | null): void {
    if (touchedSeats === null) for (const seat of this.options.keys()) this.paint(seat);
    else for (const seat of touchedSeats) if (this.options.has(seat)) this.paint(seat);
    if (this.countsTimer === null) {
      this.countsTimer = setTimeout(() => {
        this.countsTimer = null;
        this.refreshCounts();
      }, 500);
    }
  }

  /** Opens the section of `seat` (a click on the canvas) without moving focus. */
  showSeat(seat: number): void {
    const section = this.geometry.sectionOf(seat);
    if (this.section !== section) this.openSection(section, false);
    this.setActive(seat, false);
  }

  openSection(section: SectionInfo, focusGrid: boolean): void {
    this.section = section;
    this.sectionButtons.forEach((button, index) => button.setAttribute('aria-pressed', String(index === section.index)));
    this.events.onFocusSection(section);
    this.options.clear();
    const { geometry } = this;
    const grid = h('div', {
      class: 'seat-grid', role: 'listbox', tabindex: '0', 'aria-multiselectable': 'true',
      'aria-label': `Seats in ${sectionTitle(section.name)}`, 'data-testid': 'seat-grid',
    });
    for (let row = section.firstRow; row < section.endRow; row += 1) {
      const info = geometry.rows[row]!;
      const group = h('div', { class: 'seat-row', role: 'group', 'aria-label': `Row ${info.label}` }, h('span', { class: 'row-label', 'aria-hidden': 'true' }, info.label));
      for (let seat = info.firstSeat; seat < info.endSeat; seat += 1) {
        const option = h('div', { role: 'option', id: `seat-option-${seat}`, 'data-seat-id': geometry.seatId(seat) }, geometry.labels[seat]!);
        option.addEventListener('click', () => {
          this.setActive(seat, true);
          this.events.onToggleSeat(seat);
        });
        this.options.set(seat, option);
        group.append(option);
        this.paint(seat);
      }
      grid.append(group);
    }
    grid.addEventListener('keydown', (event) => this.onKey(event));
    this.grid = grid;
    replaceChildren(this.gridHost, grid);
    this.active = -1;
    this.setActive(section.firstSeat, false);
    if (focusGrid) grid.focus({ preventScroll: true });
  }

  label(seat: number): string {
    const { geometry } = this;
    const parts = [sectionTitle(geometry.sectionOf(seat).name), `row ${geometry.rowLabel(seat)}`, `seat ${geometry.labels[seat]}`, money(geometry.priceCents(seat), geometry.currency)];
    if (geometry.isAccessible(seat)) parts.push('accessible');
    if (geometry.isObstructed(seat)) parts.push('obstructed view');
    const status = this.state.seatStatus()[seat];
    if (this.state.mine.has(seat)) parts.push('held by you');
    else if (this.state.selected.has(seat)) parts.push('chosen');
    else if (status !== 0) parts.push('unavailable');
    return parts.join(', ');
  }

  private paint(seat: number): void {
    const option = this.options.get(seat);
    if (option === undefined) return;
    const status = this.state.seatStatus()[seat] ?? 3;
    const mine = this.state.mine.has(seat);
    const selected = this.state.selected.has(seat);
    option.setAttribute('aria-label', this.label(seat));
    option.setAttribute('aria-selected', String(selected || mine));
    option.setAttribute('aria-disabled', String(status !== 0 && !mine && !selected));
    option.dataset['status'] = mine ? 'mine' : selected ? 'selected' : ['available', 'held', 'sold', 'blocked'][status] ?? 'blocked';
    option.style.background = mine ? statusColours.mine : selected ? statusColours.selected : status === 0 ? tierColour(this.geometry.tier[seat]!) : status === 1 ? statusColours.held : status === 2 ? statusColours.sold : statusColours.blocked;
  }

  private setActive(seat: number, focus: boolean): void {
    if (this.grid === null) return;
    this.options.get(this.active)?.classList.remove('active');
    this.active = seat;
    const option = this.options.get(seat);
    if (option === undefined) return;
    option.classList.add('active');
    this.grid.setAttribute('aria-activedescendant', option.id);
    // Scroll the grid only, never the page (a click on the canvas must not jump the page away).
    const grid = this.grid;
    const top = option.offsetTop; // the grid is the offset parent (position: relative)
    if (top < grid.scrollTop) grid.scrollTop = top;
    else if (top + option.offsetHeight > grid.scrollTop + grid.clientHeight) grid.scrollTop = top + option.offsetHeight - grid.clientHeight;
    if (focus) grid.focus({ preventScroll: true });
  }

  private onKey(event: KeyboardEvent): void {
    if (this.section === null || this.active < 0) return;
    const { geometry } = this;
    const rowIndex = geometry.rowOf[this.active]!;
    const row = geometry.rows[rowIndex]!;
    const offset = this.active - row.firstSeat;
    const moveToRow = (target: number) => {
      const clamped = Math.min(Math.max(target, this.section!.firstRow), this.section!.endRow - 1);
      const next = geometry.rows[clamped]!;
      return Math.min(next.firstSeat + offset, next.endSeat - 1);
    };
    let next = this.active;
    switch (event.key) {
      case 'ArrowRight': next = Math.min(this.active + 1, row.endSeat - 1); break;
      case 'ArrowLeft': next = Math.max(this.active - 1, row.firstSeat); break;
      case 'ArrowDown': next = moveToRow(rowIndex + 1); break;
      case 'ArrowUp': next = moveToRow(rowIndex - 1); break;
      case 'PageDown': next = moveToRow(rowIndex + 5); break;
      case 'PageUp': next = moveToRow(rowIndex - 5); break;
      case 'Home': next = row.firstSeat; break;
      case 'End': next = row.endSeat - 1; break;
      case 'Enter':
      case ' ':
        event.preventDefault();
        this.events.onToggleSeat(this.active);
        return;
      default:
        return;
    }
    event.preventDefault();
    this.setActive(next, false);
  }

  private refreshCounts(): void {
    const status = this.state.seatStatus();
    const { geometry } = this;
    for (const section of geometry.sections) {
      let available = 0;
      for (let seat = section.firstSeat; seat < section.endSeat; seat += 1) if (status[seat] === 0) available += 1;
      const button = this.sectionButtons[section.index]!;
      const price = priceRange(section.minPriceCents, section.maxPriceCents, geometry.currency);
      button.setAttribute('aria-label', `${sectionTitle(section.name)}: ${price}, ${available.toLocaleString('en-US')} seats available`);
      replaceChildren(button, h('strong', {}, section.name), ` · ${price} · `, h('span', { class: available === 0 ? 'error' : 'muted' }, available === 0 ? 'sold out' : `${available.toLocaleString('en-US')} left`));
    }
  }
}
