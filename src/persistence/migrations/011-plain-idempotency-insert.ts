import { journalSchema } from './001-journal.js';

/**
 * The group commit records its idempotency keys with a plain INSERT instead of
 * `ON CONFLICT DO NOTHING`. The conflict clause made PostgreSQL search the primary key once before
 * each row's insert (which searches it again) and insert every row speculatively: in a hot-seats run
 * that pre-check was 14% of PostgreSQL's CPU, and the keys are new in all but the rarest batch. A key
 * recorded before now fails the insert; the block's exception handler undoes it (the block is a
 * subtransaction: one per group commit, not per key), and what is left of this batch's keys in the
 * table is exactly those recorded earlier, named in HF002 as before. Measured alone, 70 keys per
 * call: 32 µs per key with the conflict clause, 24 without, round trips included.
 *
 * The rest of holdfast_append_batch is migration 001's, taken from it (migrations never change).
 */
const onConflictInsert = `  if cardinality(p_idem_keys) > 0 then
    insert into idempotency_keys (show_id, scoped_key, fingerprint, reply)
    select p_show, k, f, r from unnest(p_idem_keys, p_idem_fingerprints, p_idem_replies) as t(k, f, r)
    on conflict do nothing;
    get diagnostics v_inserted = row_count;
    if v_inserted < cardinality(p_idem_keys) then
      -- Rare: name the keys recorded before this batch (rows this batch inserted have our xmin).
      select array_agg(scoped_key) into v_conflicts from idempotency_keys
      where show_id = p_show and scoped_key = any (p_idem_keys) and xmin::text::bigint <> txid_current() % 4294967296;
      raise exception 'holdfast: idempotency keys already recorded' using errcode = 'HF002', detail = coalesce(array_to_json(v_conflicts)::text, '[]');
    end if;
  end if;`;

const plainInsert = `  if cardinality(p_idem_keys) > 0 then
    begin
      insert into idempotency_keys (show_id, scoped_key, fingerprint, reply)
      select p_show, k, f, r from unnest(p_idem_keys, p_idem_fingerprints, p_idem_replies) as t(k, f, r);
    exception when unique_violation then
      -- Rare: this block's inserts are undone, so the batch's keys still found were recorded before it.
      select array_agg(scoped_key) into v_conflicts from idempotency_keys where show_id = p_show and scoped_key = any (p_idem_keys);
      raise exception 'holdfast: idempotency keys already recorded' using errcode = 'HF002', detail = coalesce(array_to_json(v_conflicts)::text, '[]');
    end;
  end if;`;

function replaced(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`migration 011: migration 001 no longer holds ${JSON.stringify(from.slice(0, 60))}`);
  return text.replace(from, to);
}

const functionStart = 'create function holdfast_append_batch(';
const appendBatch001 = journalSchema.slice(journalSchema.indexOf(functionStart), journalSchema.indexOf('$$;', journalSchema.indexOf(functionStart)) + '$$;'.length);

export const plainIdempotencyInsertSchema = replaced(
  replaced(replaced(appendBatch001, functionStart, 'create or replace function holdfast_append_batch('), onConflictInsert, plainInsert),
  '  v_inserted integer;\n',
  '',
);
