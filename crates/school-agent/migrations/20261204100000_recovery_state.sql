-- Whether this log must catch up from the district before the writer accepts commands: set by
-- `school-agent restore` (a backup is older than what the district holds), cleared once the
-- agent has read the school's events back from the district stream (school_agent::recovery).
-- Not part of the event log.
CREATE TABLE recovery_state (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    needs_catch_up INTEGER NOT NULL DEFAULT 0,
    reason         TEXT    NOT NULL DEFAULT '',
    marked_at      TEXT,             -- RFC 3339 UTC
    caught_up_at   TEXT,             -- RFC 3339 UTC
    caught_up_head INTEGER
) STRICT;

INSERT INTO recovery_state (id) VALUES (1);
