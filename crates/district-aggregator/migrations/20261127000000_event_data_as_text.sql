-- `school_events.data` holds the event's JSON as text, not `jsonb`.
--
-- Converting every applied event's data to `jsonb` was about a sixth of PostgreSQL's work in a
-- rebuild and a tenth at ingest (perf: `jsonb_in`, parsing, de-escaping and sorting keys),
-- for a value nothing queries inside: the aggregator reads it back whole (the activity index)
-- and decodes it with the domain's rules. The text is what the aggregator wrote from an event
-- it had decoded and validated, so it is valid JSON; `data::jsonb` still serves ad-hoc SQL.
--
-- Projection schemas are made by `create_projection`, now followed by this upgrade too; the
-- live projection and any retired ones are upgraded here, so that renaming a retired
-- projection back still works.

CREATE FUNCTION public.upgrade_projection_v3(schema_name text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
    EXECUTE format('ALTER TABLE %1$I.school_events ALTER COLUMN data TYPE text USING data::text',
                   schema_name);
END
$fn$;

CREATE OR REPLACE FUNCTION public.create_projection(schema_name text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM public.create_projection_v1(schema_name);
    PERFORM public.upgrade_projection_v2(schema_name);
    PERFORM public.upgrade_projection_v3(schema_name);
END
$fn$;

SELECT public.upgrade_projection_v3(c.table_schema)
FROM information_schema.columns c
WHERE c.table_name = 'school_events' AND c.column_name = 'data' AND c.data_type = 'jsonb'
  AND (c.table_schema = 'live' OR starts_with(c.table_schema, 'retired_'));
