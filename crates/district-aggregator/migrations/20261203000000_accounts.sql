-- The district's accounts, sessions, service tokens and audit trail.
--
-- These are NOT projections: nothing in the district stream says who may sign in, so a
-- rebuild could not recompute them. They live in their own schema, `accounts`, which the
-- rebuild never touches: it creates `rebuild_<ts>`, renames `live` to `retired_<ts>` and
-- `rebuild_<ts>` to `live`, and drops only schemas starting with `rebuild_` or `retired_`
-- (src/rebuild/schema.rs, swap.rs).
--
-- Secrets are never stored in clear: passwords as Argon2id PHC strings
-- (`credentials::PasswordHash`), session and service tokens as their SHA-256 in lowercase hex
-- (`credentials::TokenHash`).

CREATE SCHEMA IF NOT EXISTS accounts;

CREATE TABLE accounts.accounts (
    login                text PRIMARY KEY
                         CHECK (login ~ '^[a-z][a-z0-9._-]{2,63}$'),
    full_name            text NOT NULL CHECK (full_name <> ''),
    role                 text NOT NULL
                         CHECK (role IN ('quan-tri', 'chuyen-vien', 'lanh-dao', 'hieu-truong')),
    -- The school code of a school head; null for the other roles.
    school               text,
    password_hash        text NOT NULL CHECK (starts_with(password_hash, '$argon2id$')),
    must_change_password boolean NOT NULL DEFAULT true,
    enabled              boolean NOT NULL DEFAULT true,
    -- Failed sign-ins in a row (credentials::LockoutPolicy), and the lock they set.
    failed_sign_ins      integer NOT NULL DEFAULT 0 CHECK (failed_sign_ins >= 0),
    locked_until         timestamptz,
    last_sign_in         timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    -- The administrator's login, or 'server' for `district-aggregator account create-admin`.
    created_by           text NOT NULL,
    CHECK ((role = 'hieu-truong') = (school IS NOT NULL))
);

CREATE TABLE accounts.sessions (
    -- SHA-256 of the `ttp_…` token.
    token_hash  text PRIMARY KEY CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    login       text NOT NULL REFERENCES accounts.accounts (login),
    created_at  timestamptz NOT NULL,
    last_seen   timestamptz NOT NULL,
    -- Set at sign-out, password change or reset, disabling; an ended session never revives.
    ended_at    timestamptz,
    CHECK (last_seen >= created_at)
);

CREATE INDEX sessions_open_by_login ON accounts.sessions (login) WHERE ended_at IS NULL;

CREATE TABLE accounts.service_tokens (
    -- A short id to revoke it by (not secret).
    id           text PRIMARY KEY,
    service      text NOT NULL CHECK (service ~ '^[a-z][a-z0-9-]{0,63}$'),
    note         text NOT NULL DEFAULT '',
    -- SHA-256 of the `tts_…` token.
    token_hash   text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    -- The administrator's login; '' for the server command.
    issued_by    text NOT NULL,
    issued_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    last_used_at timestamptz
);

CREATE TABLE accounts.audit_log (
    id           bigserial PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    -- The person's login; '' when nobody was signed in.
    login        text NOT NULL DEFAULT '',
    -- The service it came through or from; '' for a direct call, 'server' for the commands.
    service      text NOT NULL DEFAULT '',
    from_address text NOT NULL DEFAULT '',
    action       text NOT NULL CHECK (action IN (
                     'sign_in', 'sign_in_failed', 'sign_in_locked', 'sign_out',
                     'password_changed', 'account_created', 'password_reset',
                     'account_enabled', 'account_disabled', 'school_enrolled',
                     'district_plan_adopted', 'service_token_issued', 'service_token_revoked',
                     'report_downloaded', 'access_denied')),
    target       text NOT NULL DEFAULT '',
    detail       text NOT NULL DEFAULT ''
);
