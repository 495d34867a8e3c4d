/** Ticket transfers: who gave which ticket to whom, and which token version each one got. */
export const ticketTransfersSchema = `
create table ticket_transfers (
  id bigserial primary key,
  ticket_id text not null references tickets (id),
  from_user_id text not null,
  to_user_id text not null,
  old_token_version integer not null,
  new_token_version integer not null,
  transferred_at timestamptz not null default now()
);
create index ticket_transfers_by_ticket on ticket_transfers (ticket_id, id);
`;
