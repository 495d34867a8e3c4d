import type { HoldResponse, OrderView } from '../../../client-sdk/src/index.js';

/** "101:F:14" → "Section 101, row F, seat 14" (seat ids are section:row:seat). */
export function seatIdText(seatId: string): string {
  const [section, row, seat] = seatId.split(':');
  return seat === undefined ? seatId : `Section ${section}, row ${row}, seat ${seat}`;
}

export function itemLines(items: Pick<HoldResponse, 'seat_ids' | 'ga'> | OrderView['items']): string[] {
  return [...items.seat_ids.map(seatIdText), ...items.ga.map((entry) => `${entry.quantity} × ${entry.section_id}`)];
}
