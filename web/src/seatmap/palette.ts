/** Seat colours, shared by the canvas and the accessible seat grid. Available seats take their tier's colour. */
export const tierColours = ['#7c3aed', '#d97706', '#0d9488', '#2563eb', '#db2777', '#65a30d', '#0891b2', '#9333ea', '#ea580c', '#4f46e5'];
export const statusColours = {
  held: '#c4c9d4',
  sold: '#6b7280',
  blocked: '#eceef2',
  selected: '#111827',
  mine: '#16a34a',
} as const;

export function tierColour(tier: number): string {
  return tierColours[tier % tierColours.length]!;
}

/** '#rrggbb' → [r, g, b] (tests compare canvas pixels with these). */
export function rgbOf(hex: string): [number, number, number] {
  const value = Number.parseInt(hex.slice(1), 16);
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
}
