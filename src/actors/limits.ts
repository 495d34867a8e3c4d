/**
 * Every limit of the actor layer in one place, units last. Each has a production-fit
 * default; the ones a deployment tunes are overridable through src/config.ts.
 */
export const limits = {
  /** Hold TTL bounds set per show: long enough to pay, short enough not to starve the crowd. */
  holdTtlMsMin: 60_000,
  holdTtlMsMax: 15 * 60_000,
  holdTtlMsDefault: 8 * 60_000,
  /** A hold may be extended at most twice, so one fan cannot park seats indefinitely. */
  holdExtensionsMax: 2,
  holdExtensionMsDefault: 2 * 60_000,
  /** Payment window of a pinned hold: covers 3-D Secure and slow providers. */
  paymentWindowMsDefault: 10 * 60_000,
  paymentWindowMsMin: 1_000,
  paymentWindowMsMax: 30 * 60_000,
  /** Per-show defaults for hold size and concurrent holds per fan. */
  itemsPerHoldDefault: 8,
  itemsPerHoldMax: 50,
  activeHoldsPerUserDefault: 2,
  activeHoldsPerUserMax: 20,
  /** Commands waiting for one show; beyond it new commands get `overloaded` (retryable). */
  mailboxDepthMax: 20_000,
  /** Commands decided and committed together in one transaction. */
  batchCommandsMax: 4_096,
  /**
   * Commands decided in one synchronous step. While a commit is in flight the actor decides the
   * next commands in steps of this size, yielding between steps so commit replies are not delayed.
   */
  decideStepCommandsMax: 256,
  /** Recent idempotent replies kept in memory per show; older ones are read from Postgres. */
  idempotencyCacheEntriesMax: 32_768,
  /** Ended holds remembered so late calls get `hold_expired` instead of `hold_not_found`. */
  endedHoldsRememberedMax: 4_096,
  /** A snapshot every this many events bounds recovery to one snapshot plus a short tail. */
  snapshotEveryEvents: 20_000,
  /** An idle actor passivates after this long and is reactivated on its next command. */
  actorIdleMs: 10 * 60_000,
  /** Fans on one show's waitlist; beyond it joining is refused (retryable). */
  waitlistEntriesMax: 50_000,
  /** Waitlist entries examined and offers made per batch, so one batch stays short. */
  waitlistScanPerBatchMax: 2_000,
  offersPerBatchMax: 200,
  /** How long a waitlist offer stays reserved for its fan. */
  offerTtlMsDefault: 2 * 60_000,
  /** Inventory size bounds of one show. */
  seatsPerShowMax: 200_000,
  poolsPerShowMax: 10_000,
  poolCapacityMax: 1_000_000,
} as const;
