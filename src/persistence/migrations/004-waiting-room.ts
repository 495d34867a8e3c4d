/**
 * The waiting room: one counter row per show (O(1) per show, however long the queue) and one
 * ticket row per fan, so a fan who leaves and comes back gets the same ticket.
 */
export const waitingRoomSchema = `
create table waiting_rooms (
  show_id text primary key,
  pre_count integer not null default 0,
  post_count integer not null default 0,
  serving double precision not null default 0,
  admitted_total integer not null default 0,
  paused boolean not null default false,
  rate_per_s double precision,
  mode text,
  updated_at timestamptz not null default now()
);

-- lottery: arrivals before on-sale draw a uniform number in [0, 1) that fixes their place among
-- all pre-sale arrivals once on-sale starts; seq: later arrivals are numbered in arrival order.
create table queue_tickets (
  show_id text not null,
  user_id text not null,
  lottery double precision,
  seq integer,
  joined_at timestamptz not null default now(),
  primary key (show_id, user_id),
  check ((lottery is null) <> (seq is null))
);
`;
