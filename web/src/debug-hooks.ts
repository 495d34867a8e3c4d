/**
 * A read-only window into the seat map for browser tests and curious developers
 * (`window.__holdfast` in the console): where a seat is drawn, the colour drawn there, its live
 * status. Tests click at `seatPoint` and compare `seatPixel` with `colours`, so they check
 * what a fan sees, not internal state alone.
 */
export interface SeatMapDebug {
  showId: string;
  seatCount: number;
  /** Seat-map version the page shows (-1 before the first snapshot). */
  version(): number;
  /** 'available' | 'held' | 'sold' | 'blocked' | 'selected' | 'mine', or null for an unknown seat. */
  seatState(seatId: string): string | null;
  /** Client coordinates of the seat's centre (null when off screen). */
  seatPoint(seatId: string): { x: number; y: number } | null;
  /** The colour drawn at the seat's centre. */
  seatPixel(seatId: string): [number, number, number] | null;
  /** Zooms the canvas onto a seat's section (like a fan would before clicking). */
  zoomToSeat(seatId: string): void;
  colours: { held: string; sold: string; selected: string; mine: string; available: (seatId: string) => string | null };
  frames(): number;
  lastFrameMs(): number;
}

declare global {
  interface Window {
    __holdfast?: SeatMapDebug;
  }
}

export function exposeSeatMapDebug(debug: SeatMapDebug): () => void {
  window.__holdfast = debug;
  return () => {
    if (window.__holdfast === debug) delete window.__holdfast;
  };
}
