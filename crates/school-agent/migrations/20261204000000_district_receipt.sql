-- The district's latest receipt (event_bus::receipts): how far it applied this school's log
-- and what it refused or holds. Kept so that the school app shows "Phòng đã nhận" after a
-- restart without a connection. One row; replaced by each newer receipt. Not part of the
-- event log: it is what the district said, not a fact of the school.
CREATE TABLE district_receipt (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    applied_seq  INTEGER NOT NULL CHECK (applied_seq >= 0),
    refused_json TEXT    NOT NULL,  -- [{seq, event_id, reason}]
    held_json    TEXT    NOT NULL,
    answered_at  TEXT    NOT NULL,  -- RFC 3339 UTC, the district's clock
    received_at  TEXT    NOT NULL   -- RFC 3339 UTC, this PC's clock
) STRICT;
