/**
 * Adaptive admission counts a fan's first hold once across every worker: each worker marks the
 * fan's ticket with the time it counted the hold, and only tickets not marked within the room's
 * arrival memory add to the room's arrivals (migration 009). A fan whose REST holds and socket
 * holds land on two workers was counted by both before, and the room admitted past its cap.
 * The database's clock, not the workers': theirs may disagree, and this compares their marks.
 */
export const ticketArrivalsSchema = `
alter table queue_tickets add column arrived_at timestamptz;
`;
