/**
 * A leaner group commit: the batch's replies (JSON, ~300 bytes each, full of quotes) travel as
 * ONE text in which each reply is preceded by U+001E, instead of a text array that the driver
 * escapes element by element and the server unescapes. JSON.stringify never emits a raw control
 * character, so the separator cannot occur inside a reply, and `string_to_array` gives back each
 * reply's text exactly as the actor serialized it (the stored reply is byte for byte what the
 * earlier function stored). Keys and fingerprints stay text arrays (short, rarely escaped).
 * Measured for 2,000 records: ~7 ms to ship and unpack vs ~35 ms for the three arrays and ~15 ms
 * for one JSON document through json_to_recordset. Everything else is as in
 * holdfast_append_batch (001), which stays for callers of the old signature.
 */
export const compactCommitSchema = `
create function holdfast_append_batch_compact(
  p_show text, p_epoch bigint, p_from bigint, p_to bigint, p_events jsonb,
  p_idem_keys text[], p_idem_fingerprints text[], p_idem_replies text,
  p_sold_seats text[], p_sold_orders text[], p_unsold_seats text[],
  p_pool_ids text[], p_pool_deltas integer[], p_pool_capacities integer[],
  p_outbox_topics text[], p_outbox_payloads text[]
) returns void language plpgsql as $$
declare
  v_conflicts text[];
  v_inserted integer;
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
    -- A reply missing for a key leaves it null: the not-null constraint refuses the batch.
    insert into idempotency_keys (show_id, scoped_key, fingerprint, reply)
    select p_show, k, f, r
    from unnest(p_idem_keys, p_idem_fingerprints, (string_to_array(p_idem_replies, E'\\x1e'))[2:]) as t(k, f, r)
    on conflict do nothing;
    get diagnostics v_inserted = row_count;
    if v_inserted < cardinality(p_idem_keys) then
      -- Rare: name the keys recorded before this batch (rows this batch inserted have our xmin).
      select array_agg(scoped_key) into v_conflicts from idempotency_keys
      where show_id = p_show and scoped_key = any (p_idem_keys) and xmin::text::bigint <> txid_current() % 4294967296;
      raise exception 'holdfast: idempotency keys already recorded' using errcode = 'HF002', detail = coalesce(array_to_json(v_conflicts)::text, '[]');
    end if;
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
