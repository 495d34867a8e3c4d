import type { CatalogService } from '../catalog/catalog-service.js';
import { waitingRoomDefaults, type WaitingRoomSettings } from './waiting-room.js';

/** Reads a show's waiting-room settings from the catalog, filling in defaults. */
export async function waitingRoomSettingsOf(catalog: CatalogService, showId: string): Promise<WaitingRoomSettings | null> {
  const show = await catalog.getShow(showId);
  const room = show.waiting_room;
  if (room === null || room === undefined || !room.enabled) return null;
  const onSaleAtMs = Date.parse(show.on_sale_at);
  return {
    enabled: true,
    opensAtMs: room.opens_at ? Date.parse(room.opens_at) : Number.NEGATIVE_INFINITY,
    onSaleAtMs,
    mode: room.mode ?? 'fixed',
    admissionRatePerS: room.admission_rate_per_s ?? waitingRoomDefaults.admissionRatePerS,
    activeCap: room.active_cap ?? waitingRoomDefaults.activeCap,
    admissionTtlMs: (room.admission_ttl_s ?? waitingRoomDefaults.admissionTtlMs / 1000) * 1000,
    powDifficulty: room.pow_difficulty ?? waitingRoomDefaults.powDifficulty,
  };
}
