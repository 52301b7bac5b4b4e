-- Evidence files (`evidence.attached`): what the log says of each file, in the projection,
-- and the files themselves, outside it.
--
-- `evidence` is a projection table (one row per school, record and file hash, written when
-- the event is applied), so a rebuild recomputes it from the stream like every view.
--
-- The bytes are not a function of the log: they arrive apart, from each school's JetStream
-- Object Store bucket, fetched by the aggregator's evidence task (src/evidence.rs). They live
-- in `ops.evidence_files`, which no rebuild touches, one row per school and hash: `received`
-- with the content once its size and SHA-256 matched what the event said, or `refused` with
-- the reason (Vietnamese, with a code) and no content — a file that does not match is never
-- stored nor served. No row: pending.

CREATE TABLE ops.evidence_files (
    school      text   NOT NULL,
    sha256      text   NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    state       text   NOT NULL CHECK (state IN ('received', 'refused')),
    content     bytea,
    reason      text,
    at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (school, sha256),
    CHECK ((state = 'received') = (content IS NOT NULL)),
    CHECK ((state = 'refused') = (reason IS NOT NULL))
);

CREATE FUNCTION public.upgrade_projection_v5(schema_name text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
    EXECUTE format($q$CREATE TABLE %1$I.evidence (
        school       text   NOT NULL,
        record_kind  text   NOT NULL
                     CHECK (record_kind IN ('activity', 'reporter_visit', 'press_answer', 'expense')),
        record_id    uuid   NOT NULL,
        sha256       text   NOT NULL,
        name         text   NOT NULL,
        media_type   text   NOT NULL,
        size         bigint NOT NULL CHECK (size > 0),
        attached_seq bigint NOT NULL,
        PRIMARY KEY (school, record_kind, record_id, sha256)
    )$q$, schema_name);
    EXECUTE format('CREATE INDEX ON %1$I.evidence (school, sha256)', schema_name);
END
$fn$;

CREATE OR REPLACE FUNCTION public.create_projection(schema_name text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM public.create_projection_v1(schema_name);
    PERFORM public.upgrade_projection_v2(schema_name);
    PERFORM public.upgrade_projection_v3(schema_name);
    PERFORM public.upgrade_projection_v4(schema_name);
    PERFORM public.upgrade_projection_v5(schema_name);
END
$fn$;

SELECT public.upgrade_projection_v5(t.table_schema)
FROM information_schema.tables t
WHERE t.table_name = 'school_events'
  AND (t.table_schema = 'live' OR starts_with(t.table_schema, 'retired_'))
  AND NOT EXISTS (SELECT 1 FROM information_schema.tables e
                  WHERE e.table_schema = t.table_schema AND e.table_name = 'evidence');
