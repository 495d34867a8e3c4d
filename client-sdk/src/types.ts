/**
 * Wire types, taken from the server's own definitions in src/protocol (type-only imports: the
 * zod schemas do not ship in the SDK's JavaScript, only their inferred types do).
 */
import type { z } from 'zod';
import type { ListShowsInput, SearchEventsInput } from '../../src/protocol/catalog-schemas.js';
import type {
  ConfirmPaymentRequest, ConfirmPaymentResponse, OrderListResponse, OrderResponse, TicketView, TransferTicketRequest, TransferTicketResponse,
} from '../../src/protocol/order-schemas.js';
import type { ChallengeResponse } from '../../src/protocol/queue-schemas.js';
import type { JoinWaitlistRequest } from '../../src/protocol/waitlist-schemas.js';

export type { Problem } from '../../src/protocol/api-error.js';
export type { ResultCode } from '../../src/protocol/result-codes.js';
export type { HoldRequestBody, HoldResponse } from '../../src/protocol/hold-schemas.js';
export type {
  EventCategoryName, EventList, EventView, GeometrySeatTuple, PriceTier, RectValue, SeatMapGeometry, ShowList, ShowView, VenueView, WaitingRoom,
} from '../../src/protocol/catalog-schemas.js';
export type {
  Ack, ClientToServerEvents, HoldSocketRequest, QueueAdmittedMessage, QueueJoinRequest, QueueServingMessage, QueueStatusMessage,
  SeatMapDiffMessage, SeatMapSnapshotMessage, SeatStatusCode, ServerToClientEvents, ShowStatusMessage, WaitlistOfferMessage,
} from '../../src/protocol/socket-events.js';
export type { WaitlistEntryResponse as WaitlistEntry } from '../../src/protocol/waitlist-schemas.js';

/** Query of `GET /v1/events` (the page size as a number). */
export type SearchEventsParams = Omit<SearchEventsInput, 'limit'> & { limit?: number };
/** Query of `GET /v1/events/{id}/shows`. */
export type ListShowsParams = Omit<ListShowsInput, 'limit'> & { limit?: number };

export type OrderView = z.output<typeof OrderResponse>;
export type OrderStatus = OrderView['status'];
export type OrderList = z.output<typeof OrderListResponse>;
export type TicketInfo = z.output<typeof TicketView>;
export type PaymentDetails = z.input<typeof ConfirmPaymentRequest>;
export type PaymentResult = z.output<typeof ConfirmPaymentResponse>;
/** Body and reply of `POST /v1/tickets/{id}/transfer`. */
export type TicketTransferRequest = z.input<typeof TransferTicketRequest>;
export type TicketTransferResult = z.output<typeof TransferTicketResponse>;
export type ProofOfWorkChallenge = z.output<typeof ChallengeResponse>;
/** Body of `POST /v1/shows/{id}/waitlist`. */
export type WaitlistJoinRequest = z.input<typeof JoinWaitlistRequest>;

export type { SessionView, SeatMapView, AvailabilityView } from './gateway-types.js';
