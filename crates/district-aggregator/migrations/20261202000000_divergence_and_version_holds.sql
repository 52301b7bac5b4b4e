-- No silent loss at the seams: divergences and version skew in the ingest's bookkeeping.
--
-- `dead_letters.kind` says what a dead letter is:
--   * `unreadable` — the envelope could not be placed (subject, size, JSON shape, misaddressed
--     body): it used up no seq;
--   * `refused`    — it took its seq, but does not decode or breaks a rule: the position moved
--     past it;
--   * `divergence` — its `(author, seq)` was already taken by *another* event id: the author's
--     log was restored from an old copy or re-created. Never applied, never dropped.
-- The ingest tells a re-sent event from a divergent one by the event id that took the seq:
-- `school_events`, `district_events`, or a `refused` dead letter (partial index below).
--
-- `held.reason` gains `diverged` (a new seq of an author with a divergence on record: it
-- follows a history the district does not have) and `unknown_version` (an event type or
-- schema version newer than this aggregator knows: held in order until one that knows it
-- runs).
--
-- Projection schemas are made by `create_projection`, now followed by this upgrade too; the
-- live projection and any retired ones are upgraded here.

CREATE FUNCTION public.upgrade_projection_v4(schema_name text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
    EXECUTE format($q$ALTER TABLE %1$I.dead_letters ADD COLUMN kind text NOT NULL DEFAULT 'refused'
                   CHECK (kind IN ('unreadable', 'refused', 'divergence'))$q$, schema_name);
    -- Existing rows: the envelope checks' reasons are the decoder's fixed wording.
    EXECUTE format($q$UPDATE %1$I.dead_letters SET kind = 'unreadable'
                   WHERE reason LIKE 'subject %%' OR reason LIKE 'message of %%'
                      OR reason LIKE 'invalid envelope:%%' OR reason LIKE 'body names %%'$q$,
                   schema_name);
    EXECUTE format('ALTER TABLE %1$I.dead_letters ALTER COLUMN kind DROP DEFAULT', schema_name);
    EXECUTE format($q$CREATE INDEX ON %1$I.dead_letters (author, seq)
                   WHERE kind <> 'unreadable'$q$, schema_name);
    EXECUTE format('ALTER TABLE %1$I.held DROP CONSTRAINT held_reason_check', schema_name);
    EXECUTE format($q$ALTER TABLE %1$I.held ADD CONSTRAINT held_reason_check
                   CHECK (reason IN ('gap', 'not_enrolled', 'diverged', 'unknown_version'))$q$,
                   schema_name);
END
$fn$;

CREATE OR REPLACE FUNCTION public.create_projection(schema_name text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM public.create_projection_v1(schema_name);
    PERFORM public.upgrade_projection_v2(schema_name);
    PERFORM public.upgrade_projection_v3(schema_name);
    PERFORM public.upgrade_projection_v4(schema_name);
END
$fn$;

SELECT public.upgrade_projection_v4(t.table_schema)
FROM information_schema.tables t
WHERE t.table_name = 'dead_letters'
  AND (t.table_schema = 'live' OR starts_with(t.table_schema, 'retired_'))
  AND NOT EXISTS (SELECT 1 FROM information_schema.columns c
                  WHERE c.table_schema = t.table_schema AND c.table_name = 'dead_letters'
                    AND c.column_name = 'kind');
