-- The school's event log and its outbox. One SQLite file per school.

-- Every event the school has recorded, in seq order. `envelope` is the JSON body exactly as
-- it is published to NATS; the other columns are copies for queries.
CREATE TABLE events (
    seq         INTEGER PRIMARY KEY,      -- per school, from 1, gapless
    id          TEXT    NOT NULL UNIQUE,  -- UUIDv7, also Nats-Msg-Id
    type        TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL,         -- RFC 3339 UTC
    envelope    TEXT    NOT NULL
) STRICT;

-- Invariant 1: an event, once appended, is never changed or deleted.
CREATE TRIGGER events_are_never_updated BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: record a correction instead');
END;
CREATE TRIGGER events_are_never_deleted BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: record a retraction instead');
END;

-- One entry per event, written in the same transaction as the event. The relay marks an entry
-- sent only after JetStream acknowledged it.
CREATE TABLE outbox (
    seq         INTEGER PRIMARY KEY REFERENCES events (seq),
    enqueued_at TEXT    NOT NULL,
    sent_at     TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX outbox_unsent ON outbox (seq) WHERE sent_at IS NULL;

-- What the relay last achieved and last failed at, for GetStatus across restarts.
CREATE TABLE relay_state (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    last_publish_at TEXT,
    last_error      TEXT,
    last_error_at   TEXT
) STRICT;

INSERT INTO relay_state (id) VALUES (1);
