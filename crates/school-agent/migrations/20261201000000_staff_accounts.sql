-- The school's staff accounts and their sessions: who may use this agent, signed in how.
-- Kept beside the event log in the same file but never in it: no password hash, token or
-- account row is ever published (the outbox carries only events).

CREATE TABLE staff_accounts (
    login                TEXT    PRIMARY KEY,            -- credentials::LoginName
    full_name            TEXT    NOT NULL,               -- NFC, with diacritics
    role                 TEXT    NOT NULL,               -- domain::Role code, not district_office
    password_hash        TEXT    NOT NULL,               -- Argon2id PHC string
    must_change_password INTEGER NOT NULL DEFAULT 1,
    enabled              INTEGER NOT NULL DEFAULT 1,
    failed_sign_ins      INTEGER NOT NULL DEFAULT 0,
    locked_until         TEXT,                           -- RFC 3339 UTC
    last_sign_in         TEXT,
    created_by           TEXT    NOT NULL,               -- a login, or 'server' for the command
    created_at           TEXT    NOT NULL
) STRICT;

-- Only the SHA-256 of each session token (credentials::TokenHash); the token itself is shown
-- once to the client that signed in.
CREATE TABLE staff_sessions (
    token_hash TEXT PRIMARY KEY,
    login      TEXT NOT NULL REFERENCES staff_accounts (login),
    created_at TEXT NOT NULL,
    last_seen  TEXT NOT NULL
) STRICT;

CREATE INDEX staff_sessions_by_login ON staff_sessions (login);

-- What happened to accounts: sign-ins, failures, locks, changes. Never a password.
CREATE TABLE staff_audit (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     TEXT NOT NULL,
    login  TEXT NOT NULL,   -- who did it ('' when nobody was signed in, 'server')
    action TEXT NOT NULL,   -- sign_in, sign_in_failed, sign_in_locked, sign_out, ...
    target TEXT NOT NULL    -- the login it was done to
) STRICT;
