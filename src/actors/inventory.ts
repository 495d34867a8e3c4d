import { assert } from '../shared/assert.js';
import { limits } from './limits.js';
import { seatIdOf, type ChannelDefinition, type PoolDefinition, type ShowDefinition, type ShowPolicy } from './show-definition.js';

export const seatFlag = { accessible: 1, obstructed: 2 } as const;

/**
 * A show's immutable catalogue in compact, indexed form: seats are numbered 0..n-1 in
 * section/row/seat order, so per-seat state fits in typed arrays (a 50,000-seat show costs
 * well under a megabyte). Shared by every state version of the show; never mutated.
 */
export class Inventory {
  readonly showId: string;
  readonly currency: string;
  readonly policy: ShowPolicy;
  readonly seatCount: number;
  readonly seatRow: Uint32Array;
  readonly seatTier: Uint8Array;
  readonly seatFlags: Uint8Array;
  readonly seatLabel: string[];
  readonly rowCount: number;
  readonly rowSection: Uint32Array;
  readonly rowStart: Uint32Array;
  readonly rowLength: Uint32Array;
  readonly rowLabel: string[];
  readonly sectionIds: string[];
  readonly tierIds: string[];
  readonly tierPriceCents: Int32Array;
  /** Tier indices from cheapest to dearest: best-available without a tier tries them in this order. */
  readonly tiersByPrice: number[];
  /** For each tier, the rows holding at least one of its seats, best row first. */
  readonly tierRows: Uint32Array[];
  readonly pools: PoolDefinition[];
  readonly channels: ChannelDefinition[];
  /** Channel of each seat: 0 for general sale, else channel index + 1. */
  readonly seatChannel: Uint8Array;
  /** Units of each pool set aside for each channel: channelPoolQuota[channel][pool]. */
  readonly channelPoolQuota: Int32Array[];
  private readonly rowIndexByKey = new Map<string, number>();
  private readonly poolIndexById = new Map<string, number>();
  private readonly tierIndexById = new Map<string, number>();

  constructor(definition: ShowDefinition) {
    this.showId = definition.showId;
    this.currency = definition.currency;
    this.policy = definition.policy;
    checkPolicy(definition.policy);
    assert(definition.tiers.length <= 255, 'at most 255 price tiers per show');
    this.tierIds = definition.tiers.map((tier) => tier.id);
    this.tierPriceCents = Int32Array.from(definition.tiers.map((tier) => tier.priceCents));
    definition.tiers.forEach((tier, index) => this.tierIndexById.set(tier.id, index));
    this.tiersByPrice = this.tierIds.map((_, index) => index).sort((a, b) => this.tierPriceCents[a]! - this.tierPriceCents[b]!);

    let seatCount = 0;
    let rowCount = 0;
    for (const section of definition.sections) {
      rowCount += section.rows.length;
      for (const row of section.rows) seatCount += row.seats.length;
    }
    assert(seatCount <= limits.seatsPerShowMax, `a show has at most ${limits.seatsPerShowMax} seats`);
    assert(definition.pools.length <= limits.poolsPerShowMax, `a show has at most ${limits.poolsPerShowMax} pools`);
    this.seatCount = seatCount;
    this.rowCount = rowCount;
    this.seatRow = new Uint32Array(seatCount);
    this.seatTier = new Uint8Array(seatCount);
    this.seatFlags = new Uint8Array(seatCount);
    this.seatLabel = new Array<string>(seatCount);
    this.rowSection = new Uint32Array(rowCount);
    this.rowStart = new Uint32Array(rowCount);
    this.rowLength = new Uint32Array(rowCount);
    this.rowLabel = new Array<string>(rowCount);
    this.sectionIds = definition.sections.map((section) => section.id);

    // Seat labels repeat across rows ("1".."40"); sharing one string per label keeps memory flat.
    const sharedLabels = new Map<string, string>();
    let seat = 0;
    let row = 0;
    definition.sections.forEach((section, sectionIndex) => {
      for (const rowDefinition of section.rows) {
        const key = `${section.id}:${rowDefinition.label}`;
        assert(!this.rowIndexByKey.has(key), `duplicate row ${key}`);
        this.rowIndexByKey.set(key, row);
        this.rowSection[row] = sectionIndex;
        this.rowStart[row] = seat;
        this.rowLength[row] = rowDefinition.seats.length;
        this.rowLabel[row] = rowDefinition.label;
        const labelsInRow = new Set<string>();
        for (const seatDefinition of rowDefinition.seats) {
          const tierIndex = this.tierIndexById.get(seatDefinition.tierId);
          assert(tierIndex !== undefined, `seat ${key}:${seatDefinition.label} has unknown tier ${seatDefinition.tierId}`);
          assert(!labelsInRow.has(seatDefinition.label), `duplicate seat ${key}:${seatDefinition.label}`);
          labelsInRow.add(seatDefinition.label);
          let label = sharedLabels.get(seatDefinition.label);
          if (label === undefined) {
            label = seatDefinition.label;
            sharedLabels.set(label, label);
          }
          this.seatLabel[seat] = label;
          this.seatRow[seat] = row;
          this.seatTier[seat] = tierIndex;
          this.seatFlags[seat] =
            (seatDefinition.accessible ? seatFlag.accessible : 0) | (seatDefinition.obstructed ? seatFlag.obstructed : 0);
          seat += 1;
        }
        row += 1;
      }
    });

    const rowsOfTier: number[][] = this.tierIds.map(() => []);
    for (let row = 0; row < rowCount; row += 1) {
      const tiersInRow = new Set<number>();
      const start = this.rowStart[row]!;
      for (let seatIndex = start; seatIndex < start + this.rowLength[row]!; seatIndex += 1) tiersInRow.add(this.seatTier[seatIndex]!);
      for (const tier of tiersInRow) rowsOfTier[tier]!.push(row);
    }
    this.tierRows = rowsOfTier.map((rows) => Uint32Array.from(rows));

    this.pools = definition.pools;
    definition.pools.forEach((pool, index) => {
      assert(!this.poolIndexById.has(pool.id), `duplicate pool ${pool.id}`);
      assert(Number.isInteger(pool.capacity) && pool.capacity >= 0 && pool.capacity <= limits.poolCapacityMax, `pool ${pool.id} capacity out of range`);
      this.poolIndexById.set(pool.id, index);
    });

    this.channels = definition.channels ?? [];
    assert(this.channels.length <= 254, 'at most 254 channels per show');
    this.seatChannel = new Uint8Array(seatCount);
    this.channelPoolQuota = this.channels.map((channel, channelIndex) => {
      for (const seatId of channel.seats) {
        const seatIndex = this.seatIndexOf(seatId);
        assert(seatIndex !== -1, `channel ${channel.id} names unknown seat ${seatId}`);
        assert(this.seatChannel[seatIndex] === 0, `seat ${seatId} is in two channels`);
        this.seatChannel[seatIndex] = channelIndex + 1;
      }
      const quota = new Int32Array(this.pools.length);
      for (const { poolId, quantity } of channel.pools) {
        const pool = this.poolIndexOf(poolId);
        assert(pool !== -1 && Number.isInteger(quantity) && quantity > 0, `channel ${channel.id} has a bad pool allotment ${poolId}`);
        quota[pool] = quantity;
      }
      return quota;
    });
    for (let pool = 0; pool < this.pools.length; pool += 1) {
      const allotted = this.channelPoolQuota.reduce((sum, quota) => sum + quota[pool]!, 0);
      assert(allotted <= this.pools[pool]!.capacity, `pool ${this.pools[pool]!.id} allots more to channels than it holds`);
    }
  }

  /** Seat index of `section:row:seat`, or -1. Rows are short, so a scan beats a per-seat map's memory. */
  seatIndexOf(seatId: string): number {
    const lastColon = seatId.lastIndexOf(':');
    if (lastColon <= 0) return -1;
    const row = this.rowIndexByKey.get(seatId.slice(0, lastColon));
    if (row === undefined) return -1;
    const label = seatId.slice(lastColon + 1);
    const start = this.rowStart[row]!;
    const end = start + this.rowLength[row]!;
    for (let seat = start; seat < end; seat += 1) if (this.seatLabel[seat] === label) return seat;
    return -1;
  }

  seatId(seat: number): string {
    const row = this.seatRow[seat]!;
    return seatIdOf(this.sectionIds[this.rowSection[row]!]!, this.rowLabel[row]!, this.seatLabel[seat]!);
  }

  poolIndexOf(poolId: string): number {
    return this.poolIndexById.get(poolId) ?? -1;
  }

  channelIndexOfKeyHash(keyHash: string): number {
    return this.channels.findIndex((channel) => channel.keyHash === keyHash);
  }

  /** Whether channel `channel`'s restrictions still apply at `nowMs`. */
  channelRestricted(channel: number, nowMs: number): boolean {
    const releaseAtMs = this.channels[channel]!.releaseAtMs;
    return releaseAtMs === null || nowMs < releaseAtMs;
  }

  tierIndexOf(tierId: string): number {
    return this.tierIndexById.get(tierId) ?? -1;
  }

  seatPriceCents(seat: number): number {
    return this.tierPriceCents[this.seatTier[seat]!]!;
  }
}

/** Policies come from organizers through validated schemas; this guards the actor against any other path. */
function checkPolicy(policy: ShowPolicy): void {
  const within = (value: number, min: number, max: number): boolean => Number.isInteger(value) && value >= min && value <= max;
  assert(Number.isFinite(policy.onSaleAtMs), 'policy.onSaleAtMs must be a time');
  assert(within(policy.holdTtlMs, 1, limits.holdTtlMsMax), 'policy.holdTtlMs out of range');
  assert(within(policy.maxItemsPerHold, 1, limits.itemsPerHoldMax), 'policy.maxItemsPerHold out of range');
  assert(within(policy.maxActiveHoldsPerUser, 1, limits.activeHoldsPerUserMax), 'policy.maxActiveHoldsPerUser out of range');
  assert(within(policy.maxExtensions, 0, limits.holdExtensionsMax), 'policy.maxExtensions out of range');
  assert(within(policy.extensionMs, 1, limits.holdTtlMsMax), 'policy.extensionMs out of range');
  assert(within(policy.paymentWindowMs, limits.paymentWindowMsMin, limits.paymentWindowMsMax), 'policy.paymentWindowMs out of range');
  assert(within(policy.offerTtlMs, 1, limits.holdTtlMsMax), 'policy.offerTtlMs out of range');
}
