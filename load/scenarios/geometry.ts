/**
 * The seat geometry a scenario needs: seat ids in seat-index order (the order of live diffs and
 * snapshots), each row as an index range, and a row cut into groups of adjacent seats that can
 * each be held alone without ever stranding a single seat (pairs, and a trio at the end of an
 * odd row) — so contention, not the orphan-seat rule, decides who gets what.
 */
import type { SeatMapGeometryResponse } from '../../src/protocol/catalog-schemas.js';
import type { z } from 'zod';

export interface SeatGeometry {
  seatIds: string[];
  rows: [start: number, end: number][];
}

export function geometryOf(seatMap: Pick<z.output<typeof SeatMapGeometryResponse>, 'sections'>): SeatGeometry {
  const seatIds: string[] = [];
  const rows: [number, number][] = [];
  for (const section of seatMap.sections) {
    for (const row of section.rows) {
      const start = seatIds.length;
      for (const seat of row.seats) seatIds.push(`${section.id}:${row.label}:${seat[0]}`);
      rows.push([start, seatIds.length]);
    }
  }
  return { seatIds, rows };
}

/** A row's seats as groups of 2 (the last one 3 when the row is odd; a 1-seat row is one group). */
export function rowGroups(geometry: SeatGeometry, row: number): string[][] {
  const [start, end] = geometry.rows[row]!;
  const groups: string[][] = [];
  for (let seat = start; seat + 1 < end; seat += 2) groups.push(geometry.seatIds.slice(seat, seat + 2));
  if ((end - start) % 2 === 1) {
    if (groups.length === 0) groups.push([geometry.seatIds[start]!]);
    else groups[groups.length - 1]!.push(geometry.seatIds[end - 1]!);
  }
  return groups;
}

export async function fetchGeometry(url: string, showId: string): Promise<SeatGeometry> {
  const response = await fetch(`${url}/v1/shows/${encodeURIComponent(showId)}/seat-map`);
  if (!response.ok) throw new Error(`GET seat-map of ${showId}: HTTP ${response.status}`);
  return geometryOf(((await response.json()) as { geometry: z.output<typeof SeatMapGeometryResponse> }).geometry);
}
