-- The activity search matches words, not substrings, through a word index.
--
-- The trigram index on `activities.search` was about 40% of PostgreSQL's work at ingest (one
-- index entry per three-letter window of title, summary, audience and partner). The search
-- now keeps the folded *words* of those fields as a `tsvector` (`activities.words`, built at
-- ingest from the words the aggregator folds with `folding::activity_search_words`) with a
-- GIN index, and a query word matches the words it begins (`'hoa':*`).
--
-- Projection schemas are made by `create_projection`, kept from the first migration and now
-- followed by the upgrades below, so an existing projection and a new one end up alike.

ALTER FUNCTION public.create_projection(text) RENAME TO create_projection_v1;

-- Moves the activities of projection `schema_name` from the trigram search to the word search.
-- Existing rows get their words from the folded text they already store (split at every
-- character that is not a letter or digit, as the aggregator splits).
CREATE FUNCTION public.upgrade_projection_v2(schema_name text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
    EXECUTE format('ALTER TABLE %1$I.activities ADD COLUMN words tsvector', schema_name);
    EXECUTE format($q$
        UPDATE %1$I.activities SET words = array_to_tsvector(coalesce(ARRAY(
            SELECT DISTINCT left(w, 64) FROM regexp_split_to_table(search, '[^[:alnum:]]+') AS w
            WHERE w <> ''), '{}'))$q$, schema_name);
    EXECUTE format('ALTER TABLE %1$I.activities ALTER COLUMN words SET NOT NULL', schema_name);
    -- Dropping the column drops its trigram index with it.
    EXECUTE format('ALTER TABLE %1$I.activities DROP COLUMN search', schema_name);
    EXECUTE format('CREATE INDEX ON %1$I.activities USING gin (words)', schema_name);
END
$fn$;

CREATE FUNCTION public.create_projection(schema_name text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM public.create_projection_v1(schema_name);
    PERFORM public.upgrade_projection_v2(schema_name);
END
$fn$;

SELECT public.upgrade_projection_v2('live');
