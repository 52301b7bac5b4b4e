-- Evidence files: the upload of each file (by its SHA-256) to the school's Object Store
-- bucket. The bytes live in the agent's data folder (`evidence/<2 hex>/<sha256>`), never in
-- SQLite. A row is added by the uploader when it reads an `evidence.attached` event from the
-- log (so a crash between the event and the row loses nothing); `first_seq` is the event
-- that first named the file: the file is uploaded only once that event's outbox entry is
-- sent (JetStream acknowledged it).
CREATE TABLE evidence_upload (
    sha256      TEXT    PRIMARY KEY,
    size        INTEGER NOT NULL,
    media_type  TEXT    NOT NULL,
    first_seq   INTEGER NOT NULL REFERENCES events (seq),
    uploaded_at TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    -- The upload under way: the object's chunk id (its chunks are `$O.<bucket>.C.<nuid>`)
    -- and chunk size, kept so that an interrupted upload resumes at the first chunk the
    -- bucket does not have instead of starting over.
    upload_nuid TEXT,
    chunk_size  INTEGER
) STRICT;

CREATE INDEX evidence_upload_pending ON evidence_upload (first_seq) WHERE uploaded_at IS NULL;

-- How far the uploader has read the log for `evidence.attached` events.
CREATE TABLE evidence_scan (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    scanned_seq INTEGER NOT NULL DEFAULT 0
) STRICT;

INSERT INTO evidence_scan (id) VALUES (1);
