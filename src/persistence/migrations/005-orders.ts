/** Orders, payments, tickets and webhook dedupe: the hold-then-confirm saga's records. */
export const ordersSchema = `
create table orders (
  id text primary key,
  show_id text not null,
  hold_id text not null unique,
  user_id text not null,
  status text not null check (status in ('pending_payment', 'processing', 'confirmed', 'expired', 'refunded', 'failed')),
  total_cents integer not null,
  currency text not null,
  provider text not null,
  payment_id text unique,
  pay_by timestamptz not null,
  items jsonb not null,
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  confirmed_at timestamptz
);
create index orders_by_user on orders (user_id, created_at desc);
create index orders_open on orders (updated_at) where status in ('pending_payment', 'processing');

create table payments (
  id text primary key,
  order_id text not null references orders (id),
  provider text not null,
  status text not null,
  amount_cents integer not null,
  currency text not null,
  client_secret text,
  refund_id text,
  captured_at timestamptz,
  refunded_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table tickets (
  id text primary key,
  order_id text not null references orders (id),
  show_id text not null,
  seat_id text,
  pool_id text,
  unit integer,
  holder_user_id text not null,
  status text not null default 'valid' check (status in ('valid', 'used', 'void')),
  token_version integer not null default 1,
  used_at timestamptz,
  created_at timestamptz not null default now(),
  check ((seat_id is null) <> (pool_id is null))
);
create index tickets_by_order on tickets (order_id);
create index tickets_by_holder on tickets (holder_user_id);
-- Defense in depth: one live ticket per seat.
create unique index tickets_one_per_seat on tickets (show_id, seat_id) where seat_id is not null and status <> 'void';

create table webhook_events (
  provider text not null,
  event_id text not null,
  payment_id text,
  type text not null,
  received_at timestamptz not null default now(),
  primary key (provider, event_id)
);
`;
