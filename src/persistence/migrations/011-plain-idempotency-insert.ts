/**
 * The group commit records its idempotency keys with a plain INSERT instead of
 * `ON CONFLICT DO NOTHING`. The conflict clause made PostgreSQL search the primary key once before
 * each row's insert (which searches it again) and insert every row speculatively: in a hot-seats run
 * that pre-check was 14% of PostgreSQL's CPU, and the keys are new in all but the rarest batch. A key
 * recorded before now fails the insert; the block's exception handler undoes it (the block is a
 * subtransaction: one per group commit, not per key), and what is left of this batch's keys in the
 * table is exactly those recorded earlier, named in HF002 as before. Measured alone, 70 keys per
 * call: 32 µs per key with the conflict clause, 24 without, round trips included. Everything
 * else is holdfast_append_batch of migration 001, unchanged.
 */
export const plainIdempotencyInsertSchema = `
create or replace function holdfast_append_batch(
  p_show text, p_epoch bigint, p_from bigint, p_to bigint, p_events jsonb,
  p_idem_keys text[], p_idem_fingerprints text[], p_idem_replies text[],
  p_sold_seats text[], p_sold_orders text[], p_unsold_seats text[],
  p_pool_ids text[], p_pool_deltas integer[], p_pool_capacities integer[],
  p_outbox_topics text[], p_outbox_payloads text[]
) returns void language plpgsql as $$
declare
  v_conflicts text[];
begin
  update show_leases set version = p_to where show_id = p_show and epoch = p_epoch and version = p_from;
  if not found then
    raise exception 'holdfast: epoch % of show % is stale or version % is not the tip', p_epoch, p_show, p_from
      using errcode = 'HF001';
  end if;
  if p_to > p_from then
    insert into journal (show_id, from_version, to_version, epoch, events) values (p_show, p_from, p_to, p_epoch, p_events);
  end if;
  if cardinality(p_idem_keys) > 0 then
    begin
      insert into idempotency_keys (show_id, scoped_key, fingerprint, reply)
      select p_show, k, f, r from unnest(p_idem_keys, p_idem_fingerprints, p_idem_replies) as t(k, f, r);
    exception when unique_violation then
      -- Rare: this block's inserts are undone, so the batch's keys still found were recorded before it.
      select array_agg(scoped_key) into v_conflicts from idempotency_keys where show_id = p_show and scoped_key = any (p_idem_keys);
      raise exception 'holdfast: idempotency keys already recorded' using errcode = 'HF002', detail = coalesce(array_to_json(v_conflicts)::text, '[]');
    end;
  end if;
  if cardinality(p_unsold_seats) > 0 then
    delete from sold_seats where show_id = p_show and seat_id = any (p_unsold_seats);
  end if;
  if cardinality(p_sold_seats) > 0 then
    insert into sold_seats (show_id, seat_id, order_id) select p_show, s, o from unnest(p_sold_seats, p_sold_orders) as t(s, o);
  end if;
  if cardinality(p_pool_ids) > 0 then
    -- The check constraint applies to the proposed insert row too: insert 0, then add the delta.
    insert into pool_sales (show_id, pool_id, sold, capacity)
    select p_show, pid, 0, max(c) from unnest(p_pool_ids, p_pool_capacities) as t(pid, c) group by pid
    on conflict (show_id, pool_id) do nothing;
    update pool_sales set sold = pool_sales.sold + d.delta
    from (select pid, sum(d) as delta from unnest(p_pool_ids, p_pool_deltas) as t(pid, d) group by pid) as d
    where pool_sales.show_id = p_show and pool_sales.pool_id = d.pid;
  end if;
  if cardinality(p_outbox_topics) > 0 then
    insert into outbox (show_id, topic, payload) select p_show, t, p::jsonb from unnest(p_outbox_topics, p_outbox_payloads) as x(t, p);
    perform pg_notify('holdfast_outbox', p_show);
  end if;
end
$$;
`;
