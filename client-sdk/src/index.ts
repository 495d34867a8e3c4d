/**
 * @holdfast/client — the Holdfast client SDK for browsers, Node and React Native.
 * Wire types come from the server's own definitions (src/protocol); see README.md.
 */
export { HoldfastClient, type HoldAttempt, type HoldfastClientOptions, type HoldOptions, type MutationOptions, type ReadOptions } from './client.js';
export { HoldfastAbortError, HoldfastError, HoldfastNetworkError, isHoldfastError } from './errors.js';
export { ServerClock, formatRemaining, type ClockSample, type Stop } from './clock.js';
export { SeatMapStore, SeatStatus, type DiffOutcome, type SeatMapEvent, type SeatMapState, type SeatMapStatus, type SeatMapStoreOptions, type SnapshotReason } from './seat-map-store.js';
export { QueueTracker, type Admission, type JoinQueueOptions, type QueuePhase, type QueueState } from './queue-tracker.js';
export { type ConnectionState, type LiveHooks, type LiveOptions } from './live.js';
export { type AttemptRecord, type FetchInit, type FetchLike, type FetchResponseLike } from './http.js';
export { backoffDelayMs, defaultRetryPolicy, type RetryPolicy } from './retry.js';
export { newIdempotencyKey } from './idempotency.js';
export { checkProofOfWork, leadingZeroBits, solveProofOfWork, type ProofOfWorkOptions } from './proof-of-work.js';
export { sha256, toHex } from './sha256.js';
export { decodeBase64 } from './base64.js';
export type * from './types.js';
