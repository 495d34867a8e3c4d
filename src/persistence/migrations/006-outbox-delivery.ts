/**
 * Delivery state of the transactional outbox (see src/outbox/outbox-relay.ts).
 *
 * - `attempts`, `last_error`: failed deliveries so far and why the last one failed.
 * - `next_attempt_at`: not before this time. A relay sets it to now + lease when it claims a row
 *   (so no other relay takes it while it is being delivered) and to now + backoff after a failure.
 * - `dead`: delivery gave up after the relay's max attempts; the row was copied to
 *   `outbox_dead_letters` and the show's later events are no longer held back by it.
 * - A row trigger NOTIFYs `holdfast_outbox` (payload: show id) for every insert, so relays wake up
 *   for rows written outside holdfast_append_batch too (orders, refunds). Postgres folds identical
 *   notifications of one transaction into one, so the batch function's own notify costs nothing.
 */
export const outboxDeliverySchema = `
alter table outbox
  add column attempts integer not null default 0,
  add column next_attempt_at timestamptz,
  add column last_error text,
  add column dead boolean not null default false;

-- The relay's work list: pending rows by show in id order (head-of-show lookups and claims).
drop index if exists outbox_undelivered;
create index outbox_pending on outbox (show_id, id) where delivered_at is null and not dead;
create index outbox_pending_by_id on outbox (id) where delivered_at is null and not dead;

create table outbox_dead_letters (
  event_id text primary key,
  show_id text not null,
  topic text not null,
  payload jsonb not null,
  attempts integer not null,
  last_error text,
  created_at timestamptz not null,
  failed_at timestamptz not null default now()
);
create index outbox_dead_letters_by_show on outbox_dead_letters (show_id, failed_at);

-- Consumer-side dedupe (src/outbox/consumer-dedupe.ts): one row per event a consumer handled.
create table outbox_consumer_seen (
  consumer text not null,
  event_id text not null,
  seen_at timestamptz not null default now(),
  primary key (consumer, event_id)
);
create index outbox_consumer_seen_age on outbox_consumer_seen (seen_at);

create function holdfast_outbox_notify() returns trigger language plpgsql as $$
begin
  perform pg_notify('holdfast_outbox', new.show_id);
  return null;
end
$$;
create trigger outbox_notify after insert on outbox for each row execute function holdfast_outbox_notify();
`;
