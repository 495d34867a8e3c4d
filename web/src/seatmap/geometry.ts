import type { SeatMapView } from '../../../client-sdk/src/index.js';

type Geometry = SeatMapView['geometry'];
export type PoolGeometry = Geometry['pools'][number];
export type TierGeometry = Geometry['tiers'][number];

export interface Bounds {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

export interface SectionInfo {
  index: number;
  id: string;
  name: string;
  /** Seat indexes [firstSeat, endSeat) of this section (seats are numbered section → row → seat). */
  firstSeat: number;
  endSeat: number;
  /** Global row indexes [firstRow, endRow). */
  firstRow: number;
  endRow: number;
  bounds: Bounds;
  minPriceCents: number;
  maxPriceCents: number;
}

export interface RowInfo {
  section: number;
  label: string;
  firstSeat: number;
  endSeat: number;
}

const accessibleFlag = 1;
const obstructedFlag = 2;

/**
 * The show's seat-map geometry flattened into typed arrays indexed like the live store's
 * status bytes (seat n = n-th seat in sections → rows → seats order), with a spatial grid for
 * hit testing: 50,000 seats cost a few hundred KB and a click is a lookup in 9 grid cells.
 */
export class SeatGeometry {
  readonly seatCount: number;
  readonly x: Float32Array;
  readonly y: Float32Array;
  readonly tier: Uint8Array;
  readonly flags: Uint8Array;
  readonly rowOf: Uint32Array;
  readonly labels: string[];
  readonly sections: SectionInfo[] = [];
  readonly rows: RowInfo[] = [];
  readonly tiers: TierGeometry[];
  readonly pools: PoolGeometry[];
  readonly stage: Bounds | null;
  readonly currency: string;
  /** Typical distance between neighbouring seats, in seat-map units (drawing size, hit radius). */
  readonly pitch: number;
  readonly bounds: Bounds;
  private readonly seatIndexById = new Map<string, number>();
  private readonly grid = new Map<number, number[]>();
  private readonly cellSize: number;

  constructor(geometry: Geometry) {
    this.seatCount = geometry.seat_count;
    this.tiers = geometry.tiers;
    this.pools = geometry.pools;
    this.currency = geometry.currency;
    this.x = new Float32Array(this.seatCount);
    this.y = new Float32Array(this.seatCount);
    this.tier = new Uint8Array(this.seatCount);
    this.flags = new Uint8Array(this.seatCount);
    this.rowOf = new Uint32Array(this.seatCount);
    this.labels = new Array<string>(this.seatCount);
    const gaps: number[] = [];
    let seat = 0;
    geometry.sections.forEach((section, sectionIndex) => {
      const firstSeat = seat;
      const firstRow = this.rows.length;
      const bounds = emptyBounds();
      let minPrice = Number.POSITIVE_INFINITY;
      let maxPrice = 0;
      for (const row of section.rows) {
        const rowFirst = seat;
        row.seats.forEach(([label, x, y, tier, flags], indexInRow) => {
          this.x[seat] = x;
          this.y[seat] = y;
          this.tier[seat] = tier;
          this.flags[seat] = flags;
          this.rowOf[seat] = this.rows.length;
          this.labels[seat] = label;
          this.seatIndexById.set(`${section.id}:${row.label}:${label}`, seat);
          extend(bounds, x, y);
          const price = this.tiers[tier]?.price_cents ?? 0;
          minPrice = Math.min(minPrice, price);
          maxPrice = Math.max(maxPrice, price);
          if (indexInRow > 0 && gaps.length < 4_000) gaps.push(Math.hypot(x - this.x[seat - 1]!, y - this.y[seat - 1]!));
          seat += 1;
        });
        this.rows.push({ section: sectionIndex, label: row.label, firstSeat: rowFirst, endSeat: seat });
      }
      this.sections.push({
        index: sectionIndex, id: section.id, name: section.name, firstSeat, endSeat: seat, firstRow, endRow: this.rows.length, bounds,
        minPriceCents: Number.isFinite(minPrice) ? minPrice : 0, maxPriceCents: maxPrice,
      });
    });
    gaps.sort((a, b) => a - b);
    this.pitch = gaps.length > 0 ? Math.max(gaps[Math.floor(gaps.length / 2)]!, 1e-3) : 10;
    this.stage = geometry.stage ? rectBounds(geometry.stage) : null;
    const all = emptyBounds();
    for (const section of this.sections) {
      extend(all, section.bounds.minX - this.pitch, section.bounds.minY - this.pitch);
      extend(all, section.bounds.maxX + this.pitch, section.bounds.maxY + this.pitch);
    }
    for (const pool of this.pools) if (pool.bounds) merge(all, rectBounds(pool.bounds));
    if (this.stage) merge(all, this.stage);
    this.bounds = Number.isFinite(all.minX) ? all : { minX: 0, minY: 0, maxX: 100, maxY: 100 };
    this.cellSize = this.pitch * 2;
    for (let index = 0; index < this.seatCount; index += 1) {
      const key = this.cellKey(Math.floor(this.x[index]! / this.cellSize), Math.floor(this.y[index]! / this.cellSize));
      let cell = this.grid.get(key);
      if (cell === undefined) this.grid.set(key, (cell = []));
      cell.push(index);
    }
  }

  seatIndex(seatId: string): number | undefined {
    return this.seatIndexById.get(seatId);
  }

  seatId(seat: number): string {
    const row = this.rows[this.rowOf[seat]!]!;
    return `${this.sections[row.section]!.id}:${row.label}:${this.labels[seat]!}`;
  }

  sectionOf(seat: number): SectionInfo {
    return this.sections[this.rows[this.rowOf[seat]!]!.section]!;
  }

  rowLabel(seat: number): string {
    return this.rows[this.rowOf[seat]!]!.label;
  }

  priceCents(seat: number): number {
    return this.tiers[this.tier[seat]!]?.price_cents ?? 0;
  }

  isAccessible(seat: number): boolean {
    return (this.flags[seat]! & accessibleFlag) !== 0;
  }

  isObstructed(seat: number): boolean {
    return (this.flags[seat]! & obstructedFlag) !== 0;
  }

  /** The seat nearest to (x, y) within about half a seat pitch, or -1. */
  seatAt(x: number, y: number): number {
    const cx = Math.floor(x / this.cellSize);
    const cy = Math.floor(y / this.cellSize);
    const radius = this.pitch * 0.6;
    let best = -1;
    let bestDistance = radius * radius;
    for (let dx = -1; dx <= 1; dx += 1) {
      for (let dy = -1; dy <= 1; dy += 1) {
        for (const seat of this.grid.get(this.cellKey(cx + dx, cy + dy)) ?? []) {
          const distance = (this.x[seat]! - x) ** 2 + (this.y[seat]! - y) ** 2;
          if (distance <= bestDistance) {
            bestDistance = distance;
            best = seat;
          }
        }
      }
    }
    return best;
  }

  /** The pool whose drawn area contains (x, y), or -1. */
  poolAt(x: number, y: number): number {
    return this.pools.findIndex((pool) => pool.bounds !== null && x >= pool.bounds.x && x <= pool.bounds.x + pool.bounds.width && y >= pool.bounds.y && y <= pool.bounds.y + pool.bounds.height);
  }

  private cellKey(cx: number, cy: number): number {
    // Cells are far fewer than 2^20 per axis for any venue the catalog accepts.
    return (cx + 524_288) * 1_048_576 + (cy + 524_288);
  }
}

function emptyBounds(): Bounds {
  return { minX: Number.POSITIVE_INFINITY, minY: Number.POSITIVE_INFINITY, maxX: Number.NEGATIVE_INFINITY, maxY: Number.NEGATIVE_INFINITY };
}

function extend(bounds: Bounds, x: number, y: number): void {
  bounds.minX = Math.min(bounds.minX, x);
  bounds.minY = Math.min(bounds.minY, y);
  bounds.maxX = Math.max(bounds.maxX, x);
  bounds.maxY = Math.max(bounds.maxY, y);
}

function merge(into: Bounds, other: Bounds): void {
  extend(into, other.minX, other.minY);
  extend(into, other.maxX, other.maxY);
}

export function rectBounds(rect: { x: number; y: number; width: number; height: number }): Bounds {
  return { minX: rect.x, minY: rect.y, maxX: rect.x + rect.width, maxY: rect.y + rect.height };
}

/** "Section 112" whether the venue named it "112" or "Section 112". */
export function sectionTitle(name: string): string {
  return /^section\b/i.test(name) ? name : `Section ${name}`;
}
