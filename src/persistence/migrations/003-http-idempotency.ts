/** Stored replies of idempotent REST calls that are not show commands (organizer creates, orders). */
export const httpIdempotencySchema = `
create table http_idempotency (
  scope text not null,
  idempotency_key text not null,
  operation text not null,
  fingerprint text not null,
  status integer,
  body text,
  created_at timestamptz not null default now(),
  completed_at timestamptz,
  primary key (scope, idempotency_key)
);
create index http_idempotency_created on http_idempotency (created_at);
`;
