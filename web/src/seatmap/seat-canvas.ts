import type { Bounds, SeatGeometry } from './geometry.js';
import { rectBounds } from './geometry.js';
import { statusColours, tierColour, tierColours } from './palette.js';

/** What the canvas needs to know about live state; read at every frame. */
export interface SeatPaintState {
  /** One status byte per seat (0 available, 1 held, 2 sold, 3 blocked). */
  seatStatus(): Uint8Array;
  poolAvailable(): readonly number[];
  /** Seats chosen but not held yet. */
  selected: ReadonlySet<number>;
  /** Seats in this fan's current hold. */
  mine: ReadonlySet<number>;
}

export interface SeatCanvasEvents {
  onSeatClick(seat: number): void;
  onPoolClick(pool: number): void;
  onHover(seat: number, clientX: number, clientY: number): void;
}

const held = tierColours.length;
const sold = held + 1;
const blocked = held + 2;
const selectedColour = held + 3;
const mineColour = held + 4;
const palette = [...tierColours, statusColours.held, statusColours.sold, statusColours.blocked, statusColours.selected, statusColours.mine];

/**
 * Draws the whole venue on one canvas and handles zoom (wheel, buttons, +/− keys) and pan (drag,
 * arrow keys). A frame buckets the visible seats by colour (a counting sort over the status bytes)
 * and fills each bucket with one style, so 50,000 seats draw in a few milliseconds; frames are
 * only drawn when something changed (a diff, a selection, a move).
 */
export class SeatCanvas {
  private scale = 1;
  private offsetX = 0;
  private offsetY = 0;
  private fitScale = 1;
  private frameRequested = false;
  private readonly order: Uint32Array;
  private readonly colourOf: Uint8Array;
  private drag: { pointerId: number; startX: number; startY: number; lastX: number; lastY: number; moved: boolean } | null = null;
  private readonly resizeObserver: ResizeObserver;
  /** Milliseconds the last frame took (shown to tests and curious fans). */
  lastFrameMs = 0;
  frames = 0;

  constructor(
    readonly canvas: HTMLCanvasElement,
    private readonly geometry: SeatGeometry,
    private readonly state: SeatPaintState,
    private readonly events: SeatCanvasEvents,
  ) {
    this.order = new Uint32Array(geometry.seatCount);
    this.colourOf = new Uint8Array(geometry.seatCount);
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(canvas);
    canvas.addEventListener('wheel', (event) => this.onWheel(event), { passive: false });
    canvas.addEventListener('pointerdown', (event) => this.onPointerDown(event));
    canvas.addEventListener('pointermove', (event) => this.onPointerMove(event));
    canvas.addEventListener('pointerup', (event) => this.onPointerUp(event));
    canvas.addEventListener('pointercancel', () => this.endDrag());
    canvas.addEventListener('pointerleave', () => this.events.onHover(-1, 0, 0));
    canvas.addEventListener('keydown', (event) => this.onKey(event));
    this.resize();
    this.fit();
  }

  destroy(): void {
    this.resizeObserver.disconnect();
  }

  /** Asks for a frame (at most one per animation frame). */
  invalidate(): void {
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame(() => {
      this.frameRequested = false;
      this.draw();
    });
  }

  fit(): void {
    this.zoomToBounds(this.geometry.bounds, 0.96);
    this.fitScale = this.scale;
  }

  zoomBy(factor: number, screenX = this.canvas.clientWidth / 2, screenY = this.canvas.clientHeight / 2): void {
    const next = Math.min(Math.max(this.scale * factor, this.fitScale * 0.5), this.maxScale());
    const worldX = (screenX - this.offsetX) / this.scale;
    const worldY = (screenY - this.offsetY) / this.scale;
    this.scale = next;
    this.offsetX = screenX - worldX * next;
    this.offsetY = screenY - worldY * next;
    this.invalidate();
  }

  panBy(dx: number, dy: number): void {
    this.offsetX += dx;
    this.offsetY += dy;
    this.invalidate();
  }

  zoomToBounds(bounds: Bounds, fill = 0.8): void {
    const width = Math.max(this.canvas.clientWidth, 1);
    const height = Math.max(this.canvas.clientHeight, 1);
    const spanX = Math.max(bounds.maxX - bounds.minX, this.geometry.pitch * 4);
    const spanY = Math.max(bounds.maxY - bounds.minY, this.geometry.pitch * 4);
    this.scale = Math.min(Math.min((width * fill) / spanX, (height * fill) / spanY), this.maxScale());
    this.offsetX = width / 2 - ((bounds.minX + bounds.maxX) / 2) * this.scale;
    this.offsetY = height / 2 - ((bounds.minY + bounds.maxY) / 2) * this.scale;
    this.invalidate();
  }

  /** Where seat `seat` is drawn, in client (viewport) coordinates; null when off screen. */
  clientPointOf(seat: number): { x: number; y: number } | null {
    const rect = this.canvas.getBoundingClientRect();
    const x = this.geometry.x[seat]! * this.scale + this.offsetX;
    const y = this.geometry.y[seat]! * this.scale + this.offsetY;
    if (x < 0 || y < 0 || x > rect.width || y > rect.height) return null;
    return { x: rect.left + x, y: rect.top + y };
  }

  /** The drawn colour at seat `seat`'s centre ([r, g, b]); null when off screen. */
  pixelOf(seat: number): [number, number, number] | null {
    const point = this.clientPointOf(seat);
    if (point === null) return null;
    const rect = this.canvas.getBoundingClientRect();
    const ratio = this.canvas.width / Math.max(rect.width, 1);
    const context = this.canvas.getContext('2d');
    if (context === null) return null;
    const data = context.getImageData(Math.floor((point.x - rect.left) * ratio), Math.floor((point.y - rect.top) * ratio), 1, 1).data;
    return [data[0]!, data[1]!, data[2]!];
  }

  /** Seat size on screen, in CSS pixels. */
  get seatPixels(): number {
    return this.geometry.pitch * this.scale;
  }

  private maxScale(): number {
    return 48 / this.geometry.pitch;
  }

  private resize(): void {
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(1, Math.round(this.canvas.clientWidth * ratio));
    const height = Math.max(1, Math.round(this.canvas.clientHeight * ratio));
    if (this.canvas.width !== width || this.canvas.height !== height) {
      const hadSize = this.canvas.width > 1;
      this.canvas.width = width;
      this.canvas.height = height;
      if (!hadSize) this.fit();
    }
    this.invalidate();
  }

  private toWorld(event: { clientX: number; clientY: number }): { x: number; y: number; screenX: number; screenY: number } {
    const rect = this.canvas.getBoundingClientRect();
    const screenX = event.clientX - rect.left;
    const screenY = event.clientY - rect.top;
    return { x: (screenX - this.offsetX) / this.scale, y: (screenY - this.offsetY) / this.scale, screenX, screenY };
  }

  private onWheel(event: WheelEvent): void {
    event.preventDefault();
    const { screenX, screenY } = this.toWorld(event);
    this.zoomBy(Math.exp(-event.deltaY * 0.0015), screenX, screenY);
  }

  private onPointerDown(event: PointerEvent): void {
    if (event.button !== 0) return;
    this.canvas.setPointerCapture(event.pointerId);
    this.drag = { pointerId: event.pointerId, startX: event.clientX, startY: event.clientY, lastX: event.clientX, lastY: event.clientY, moved: false };
  }

  private onPointerMove(event: PointerEvent): void {
    if (this.drag !== null && this.drag.pointerId === event.pointerId) {
      if (Math.hypot(event.clientX - this.drag.startX, event.clientY - this.drag.startY) > 4) {
        this.drag.moved = true;
        this.canvas.classList.add('dragging');
      }
      if (this.drag.moved) this.panBy(event.clientX - this.drag.lastX, event.clientY - this.drag.lastY);
      this.drag.lastX = event.clientX;
      this.drag.lastY = event.clientY;
      return;
    }
    const world = this.toWorld(event);
    this.events.onHover(this.geometry.seatAt(world.x, world.y), event.clientX, event.clientY);
  }

  private onPointerUp(event: PointerEvent): void {
    const drag = this.drag;
    this.endDrag();
    if (drag === null || drag.moved) return;
    const world = this.toWorld(event);
    const seat = this.geometry.seatAt(world.x, world.y);
    if (seat >= 0) this.events.onSeatClick(seat);
    else {
      const pool = this.geometry.poolAt(world.x, world.y);
      if (pool >= 0) this.events.onPoolClick(pool);
    }
  }

  private endDrag(): void {
    this.drag = null;
    this.canvas.classList.remove('dragging');
  }

  private onKey(event: KeyboardEvent): void {
    const step = 80;
    const actions: Record<string, () => void> = {
      ArrowLeft: () => this.panBy(step, 0),
      ArrowRight: () => this.panBy(-step, 0),
      ArrowUp: () => this.panBy(0, step),
      ArrowDown: () => this.panBy(0, -step),
      '+': () => this.zoomBy(1.5),
      '=': () => this.zoomBy(1.5),
      '-': () => this.zoomBy(1 / 1.5),
      '0': () => this.fit(),
    };
    const action = actions[event.key];
    if (action === undefined) return;
    event.preventDefault();
    action();
  }

  private draw(): void {
    const started = performance.now();
    const context = this.canvas.getContext('2d');
    if (context === null) return;
    const ratio = this.canvas.width / Math.max(this.canvas.clientWidth, 1);
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.clearRect(0, 0, this.canvas.width, this.canvas.height);
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    const { geometry } = this;
    const scale = this.scale;
    const toX = (x: number) => x * scale + this.offsetX;
    const toY = (y: number) => y * scale + this.offsetY;

    if (geometry.stage) {
      const stage = geometry.stage;
      context.fillStyle = '#1f2937';
      context.fillRect(toX(stage.minX), toY(stage.minY), (stage.maxX - stage.minX) * scale, (stage.maxY - stage.minY) * scale);
      this.label(context, 'STAGE', toX((stage.minX + stage.maxX) / 2), toY((stage.minY + stage.maxY) / 2), '#ffffff', 14);
    }
    const poolAvailable = this.state.poolAvailable();
    geometry.pools.forEach((pool, index) => {
      if (pool.bounds === null) return;
      const bounds = rectBounds(pool.bounds);
      const left = poolAvailable[index] ?? 0;
      context.globalAlpha = left > 0 ? 0.28 : 0.15;
      context.fillStyle = left > 0 ? tierColour(geometry.tiers.findIndex((tier) => tier.price_cents === pool.price_cents)) : statusColours.sold;
      context.fillRect(toX(bounds.minX), toY(bounds.minY), (bounds.maxX - bounds.minX) * scale, (bounds.maxY - bounds.minY) * scale);
      context.globalAlpha = 1;
      const centreX = toX((bounds.minX + bounds.maxX) / 2);
      const centreY = toY((bounds.minY + bounds.maxY) / 2);
      this.label(context, pool.name, centreX, centreY - 9, '#111827', 13);
      this.label(context, left > 0 ? `${left.toLocaleString('en-US')} left` : 'sold out', centreX, centreY + 9, '#374151', 12);
    });

    // Bucket visible seats by colour (counting sort), then fill each bucket with one style.
    const status = this.state.seatStatus();
    const width = this.canvas.clientWidth;
    const height = this.canvas.clientHeight;
    const size = Math.max(1.2, geometry.pitch * scale * 0.8);
    const margin = size;
    const counts = new Uint32Array(palette.length + 1);
    let visible = 0;
    for (let seat = 0; seat < geometry.seatCount; seat += 1) {
      const sx = geometry.x[seat]! * scale + this.offsetX;
      const sy = geometry.y[seat]! * scale + this.offsetY;
      if (sx < -margin || sy < -margin || sx > width + margin || sy > height + margin) {
        this.colourOf[seat] = 255;
        continue;
      }
      let colour: number;
      if (this.state.mine.has(seat)) colour = mineColour;
      else if (this.state.selected.has(seat)) colour = selectedColour;
      else {
        const code = status[seat] ?? 3;
        colour = code === 0 ? geometry.tier[seat]! % tierColours.length : code === 1 ? held : code === 2 ? sold : blocked;
      }
      this.colourOf[seat] = colour;
      counts[colour + 1]! += 1;
      visible += 1;
    }
    for (let colour = 1; colour < counts.length; colour += 1) counts[colour]! += counts[colour - 1]!;
    const cursor = counts.slice();
    for (let seat = 0; seat < geometry.seatCount; seat += 1) {
      const colour = this.colourOf[seat]!;
      if (colour !== 255) this.order[cursor[colour]!++] = seat;
    }
    const round = size >= 7;
    const half = size / 2;
    for (let colour = 0; colour < palette.length; colour += 1) {
      const start = counts[colour]!;
      const end = counts[colour + 1]!;
      if (start === end) continue;
      context.fillStyle = palette[colour]!;
      if (round) context.beginPath();
      for (let position = start; position < end; position += 1) {
        const seat = this.order[position]!;
        const sx = geometry.x[seat]! * scale + this.offsetX;
        const sy = geometry.y[seat]! * scale + this.offsetY;
        if (round) {
          context.moveTo(sx + half, sy);
          context.arc(sx, sy, half, 0, Math.PI * 2);
        } else context.fillRect(sx - half, sy - half, size, size);
      }
      if (round) context.fill();
    }
    if (size >= 16) {
      context.font = `${Math.min(11, size * 0.5)}px system-ui, sans-serif`;
      context.textAlign = 'center';
      context.textBaseline = 'middle';
      context.fillStyle = '#ffffff';
      for (let position = 0; position < visible; position += 1) {
        const seat = this.order[position]!;
        context.fillText(geometry.labels[seat]!, geometry.x[seat]! * scale + this.offsetX, geometry.y[seat]! * scale + this.offsetY);
      }
    }
    // Section names once a section is big enough on screen to carry one.
    for (const section of geometry.sections) {
      const sectionWidth = (section.bounds.maxX - section.bounds.minX) * scale;
      if (sectionWidth < 70 || size >= 16) continue;
      this.label(context, section.name, toX((section.bounds.minX + section.bounds.maxX) / 2), toY((section.bounds.minY + section.bounds.maxY) / 2), '#111827', 12, true);
    }
    this.lastFrameMs = performance.now() - started;
    this.frames += 1;
  }

  private label(context: CanvasRenderingContext2D, text: string, x: number, y: number, colour: string, pixels: number, halo = false): void {
    context.font = `600 ${pixels}px system-ui, sans-serif`;
    context.textAlign = 'center';
    context.textBaseline = 'middle';
    if (halo) {
      context.lineWidth = 3;
      context.strokeStyle = 'rgba(255,255,255,0.85)';
      context.strokeText(text, x, y);
    }
    context.fillStyle = colour;
    context.fillText(text, x, y);
  }
}
