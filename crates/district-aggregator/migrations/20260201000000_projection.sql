-- The district aggregator's PostgreSQL layout.
--
-- Projections (the district views and the positions that say how far each author's log has
-- been applied) live together in one PostgreSQL *schema*, `live`. A rebuild creates a fresh
-- schema with `create_projection('<name>')`, replays the stream into it, and swaps it in with
-- `ALTER SCHEMA ... RENAME` in one transaction: readers see the old views or the new ones,
-- never a mixture. Positions, held events and dead letters belong to the projection because
-- they commit with it (invariant 3) and a rebuild recomputes them from the stream.
--
-- Operational facts that are not a function of the log (when a school was last heard from,
-- its outbox backlog) live outside it, in the `ops` schema, and survive a rebuild.

-- Trigram indexes make the activity search (`folded LIKE '%word%'`) fast. pg_trgm ships with
-- PostgreSQL's contrib modules (Debian: postgresql-contrib) and is a trusted extension, so a
-- database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

CREATE SCHEMA IF NOT EXISTS ops;

-- Last contact and outbox backlog per author (school code, or `_district`).
CREATE TABLE ops.contacts (
    author          text PRIMARY KEY,
    -- JetStream's arrival time of the newest message from this author.
    last_contact_at timestamptz NOT NULL,
    -- The seq that message carried (null when its body was unreadable).
    last_seq        bigint,
    -- The `Tt-Outbox-Head` header of that message; null when absent.
    outbox_head     bigint,
    -- outbox_head - last_seq, never negative; null when unknown.
    backlog         bigint,
    last_stream_seq bigint NOT NULL
);

-- Creates every projection table, empty, in a new schema named `schema_name`.
CREATE FUNCTION public.create_projection(schema_name text) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
    EXECUTE format('CREATE SCHEMA %I', schema_name);

    -- How far each author's log has been applied: every seq <= applied_seq was applied or
    -- dead-lettered, exactly once, in order.
    EXECUTE format($q$
        CREATE TABLE %1$I.positions (
            author          text PRIMARY KEY,
            applied_seq     bigint NOT NULL CHECK (applied_seq >= 0),
            applied_events  bigint NOT NULL DEFAULT 0,
            rejected_events bigint NOT NULL DEFAULT 0,
            last_event_id   uuid,
            CHECK (applied_events + rejected_events = applied_seq)
        )$q$, schema_name);

    -- Events that arrived before their turn (a gap) or before their school was enrolled.
    -- Each is applied, in order, when everything before it is.
    EXECUTE format($q$
        CREATE TABLE %1$I.held (
            author      text NOT NULL,
            seq         bigint NOT NULL CHECK (seq >= 1),
            reason      text NOT NULL CHECK (reason IN ('gap', 'not_enrolled')),
            event_id    uuid NOT NULL,
            event_type  text NOT NULL,
            subject     text NOT NULL,
            stream_seq  bigint NOT NULL,
            headers     jsonb NOT NULL,
            body        bytea NOT NULL,
            received_at timestamptz NOT NULL,
            PRIMARY KEY (author, seq)
        )$q$, schema_name);

    -- Messages that could not be applied: unreadable, addressed wrongly, or refused by the
    -- domain's rules. One row per stream message at most (redelivery adds nothing).
    EXECUTE format($q$
        CREATE TABLE %1$I.dead_letters (
            id          bigserial PRIMARY KEY,
            stream_seq  bigint NOT NULL UNIQUE,
            subject     text NOT NULL,
            author      text,
            seq         bigint,
            event_id    uuid,
            event_type  text,
            reason      text NOT NULL,
            raw         bytea NOT NULL,
            headers     jsonb NOT NULL,
            received_at timestamptz NOT NULL
        )$q$, schema_name);
    EXECUTE format('CREATE INDEX ON %1$I.dead_letters (author, received_at)', schema_name);

    -- Every applied event, for completeness and timeliness (and to restore a school's
    -- decision state). The district office's own events are in district_events.
    EXECUTE format($q$
        CREATE TABLE %1$I.school_events (
            school       text NOT NULL,
            seq          bigint NOT NULL,
            event_id     uuid NOT NULL,
            type         text NOT NULL,
            schema       integer NOT NULL,
            occurred_at  timestamptz NOT NULL,
            recorded_at  timestamptz NOT NULL,
            -- Vietnam local dates of the two instants, and the delay between them in days.
            occurred_on  date NOT NULL,
            recorded_on  date NOT NULL,
            delay_days   integer NOT NULL CHECK (delay_days >= 0),
            actor_role   text NOT NULL,
            actor_person text NOT NULL,
            data         jsonb NOT NULL,
            PRIMARY KEY (school, seq)
        )$q$, schema_name);
    EXECUTE format('CREATE INDEX ON %1$I.school_events (occurred_on, school)', schema_name);

    EXECUTE format($q$
        CREATE TABLE %1$I.district_events (
            seq          bigint PRIMARY KEY,
            event_id     uuid NOT NULL,
            type         text NOT NULL,
            schema       integer NOT NULL,
            occurred_at  timestamptz NOT NULL,
            recorded_at  timestamptz NOT NULL,
            actor_role   text NOT NULL,
            actor_person text NOT NULL,
            data         jsonb NOT NULL
        )$q$, schema_name);

    -- Enrolment (school.enrolled): the schools that take part in the district's views.
    EXECUTE format($q$
        CREATE TABLE %1$I.schools (
            code         text PRIMARY KEY,
            name         text NOT NULL,
            level        text NOT NULL CHECK (level IN ('mam_non', 'tieu_hoc', 'thcs')),
            commune      text NOT NULL,
            enrolled_on  date NOT NULL,
            enrolled_seq bigint NOT NULL,
            updated_seq  bigint NOT NULL
        )$q$, schema_name);

    -- The current district plan (district_plan.adopted); a later adoption replaces it.
    EXECUTE format($q$
        CREATE TABLE %1$I.district_plan (
            id                   smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
            number               text NOT NULL,
            issuer               text NOT NULL,
            parent_agency        text NOT NULL,
            place                text NOT NULL,
            date                 date NOT NULL,
            title                text NOT NULL,
            period_start         date NOT NULL,
            period_end           date NOT NULL,
            answer_feedback_days integer NOT NULL,
            answer_press_days    integer NOT NULL,
            -- The whole plan as adopted, to restore the district's decision state.
            plan                 jsonb NOT NULL,
            adopted_seq          bigint NOT NULL
        )$q$, schema_name);
    EXECUTE format($q$
        CREATE TABLE %1$I.district_targets (
            ord            integer PRIMARY KEY,
            level          text CHECK (level IN ('mam_non', 'tieu_hoc', 'thcs')),
            area           smallint CHECK (area BETWEEN 1 AND 6),
            per            text NOT NULL CHECK (per IN ('quarter', 'semester', 'school_year', 'calendar_year')),
            min_activities integer NOT NULL CHECK (min_activities >= 0)
        )$q$, schema_name);

    -- Each school's plan as adopted and amended.
    EXECUTE format($q$
        CREATE TABLE %1$I.plans (
            school        text PRIMARY KEY,
            number        text NOT NULL,
            issuer        text NOT NULL,
            parent_agency text NOT NULL,
            place         text NOT NULL,
            date          date NOT NULL,
            title         text NOT NULL,
            period_start  date NOT NULL,
            period_end    date NOT NULL,
            legal_bases   jsonb NOT NULL,
            content_areas jsonb NOT NULL,
            duties        jsonb NOT NULL,
            -- The whole plan with every amendment applied, to restore the decision state.
            plan          jsonb NOT NULL,
            amendments    integer NOT NULL DEFAULT 0,
            adopted_seq   bigint NOT NULL,
            updated_seq   bigint NOT NULL
        )$q$, schema_name);

    EXECUTE format($q$
        CREATE TABLE %1$I.duties (
            school text NOT NULL,
            seq    bigint NOT NULL,
            role   text NOT NULL,
            person text NOT NULL,
            duty   text NOT NULL,
            since  date NOT NULL,
            PRIMARY KEY (school, seq)
        )$q$, schema_name);

    -- Activities as they now stand: the last recorded/corrected fields; `live` until retracted.
    EXECUTE format($q$
        CREATE TABLE %1$I.activities (
            school           text NOT NULL,
            activity_id      uuid NOT NULL,
            date             date NOT NULL,
            area             smallint NOT NULL CHECK (area BETWEEN 1 AND 6),
            topic            text,
            channel          text NOT NULL,
            title            text NOT NULL,
            summary          text NOT NULL,
            audience         text,
            reach            bigint,
            partner          text,
            evidence_url     text,
            responsible      text NOT NULL,
            live             boolean NOT NULL,
            -- Folded (lowercase, no diacritics, đ -> d) title, summary, audience and partner,
            -- one per line, for the free-text search.
            search           text NOT NULL,
            recorded_seq     bigint NOT NULL,
            updated_seq      bigint NOT NULL,
            recorded_at      timestamptz NOT NULL,
            occurred_at      timestamptz NOT NULL,
            corrections      integer NOT NULL DEFAULT 0,
            retracted_reason text,
            PRIMARY KEY (school, activity_id)
        )$q$, schema_name);
    -- The plan view: per school and area over a date range.
    EXECUTE format('CREATE INDEX ON %1$I.activities (school, area, date) WHERE live', schema_name);
    -- The search's order and paging: date descending, then school, then id.
    EXECUTE format('CREATE INDEX ON %1$I.activities (date DESC, school, activity_id) WHERE live', schema_name);
    EXECUTE format('CREATE INDEX ON %1$I.activities (area, date) WHERE live', schema_name);
    EXECUTE format('CREATE INDEX ON %1$I.activities USING gin (search public.gin_trgm_ops)', schema_name);

    -- Citizen feedback and press issues: cases opened and answered.
    EXECUTE format($q$
        CREATE TABLE %1$I.feedback (
            school         text NOT NULL,
            feedback_id    uuid NOT NULL,
            received_on    date NOT NULL,
            channel        text NOT NULL,
            citizen        text,
            subject        text NOT NULL,
            content        text NOT NULL,
            area           smallint,
            answered_on    date,
            answer_channel text,
            answer         text,
            received_seq   bigint NOT NULL,
            answered_seq   bigint,
            PRIMARY KEY (school, feedback_id)
        )$q$, schema_name);
    EXECUTE format('CREATE INDEX ON %1$I.feedback (received_on, school)', schema_name);

    EXECUTE format($q$
        CREATE TABLE %1$I.press_issues (
            school         text NOT NULL,
            issue_id       uuid NOT NULL,
            raised_on      date NOT NULL,
            outlet         text NOT NULL,
            title          text NOT NULL,
            summary        text NOT NULL,
            url            text,
            area           smallint,
            answered_on    date,
            answer_channel text,
            response       text,
            raised_seq     bigint NOT NULL,
            answered_seq   bigint,
            PRIMARY KEY (school, issue_id)
        )$q$, schema_name);
    EXECUTE format('CREATE INDEX ON %1$I.press_issues (raised_on, school)', schema_name);

    EXECUTE format($q$
        CREATE TABLE %1$I.reporter_visits (
            school   text NOT NULL,
            visit_id uuid NOT NULL,
            date     date NOT NULL,
            outlet   text NOT NULL,
            reporter text NOT NULL,
            purpose  text NOT NULL,
            area     smallint,
            seq      bigint NOT NULL,
            PRIMARY KEY (school, visit_id)
        )$q$, schema_name);
    EXECUTE format('CREATE INDEX ON %1$I.reporter_visits (date, school)', schema_name);

    -- Nominations, with the commendation when awarded.
    EXECUTE format($q$
        CREATE TABLE %1$I.nominations (
            school          text NOT NULL,
            nomination_id   uuid NOT NULL,
            date            date NOT NULL,
            nominee_kind    text NOT NULL,
            nominee         text NOT NULL,
            achievement     text NOT NULL,
            proposed_level  text NOT NULL,
            awarded_level   text,
            decision_number text,
            decision_date   date,
            nominated_seq   bigint NOT NULL,
            awarded_seq     bigint,
            PRIMARY KEY (school, nomination_id)
        )$q$, schema_name);
    EXECUTE format('CREATE INDEX ON %1$I.nominations (date, school)', schema_name);
    EXECUTE format('CREATE INDEX ON %1$I.nominations (decision_date, school) WHERE decision_date IS NOT NULL', schema_name);

    EXECUTE format($q$
        CREATE TABLE %1$I.emulation_criteria (
            school      text NOT NULL,
            school_year integer NOT NULL,
            adopted_on  date NOT NULL,
            criteria    jsonb NOT NULL,
            seq         bigint NOT NULL,
            PRIMARY KEY (school, school_year)
        )$q$, schema_name);

    -- Budget per school and calendar year: the latest estimate and the settlement.
    EXECUTE format($q$
        CREATE TABLE %1$I.budgets (
            school         text NOT NULL,
            year           integer NOT NULL,
            estimated      bigint,
            estimated_on   date,
            lines          jsonb,
            estimates      integer NOT NULL DEFAULT 0,
            settled_amount bigint,
            settled_on     date,
            note           text,
            PRIMARY KEY (school, year)
        )$q$, schema_name);

    EXECUTE format($q$
        CREATE TABLE %1$I.expenses (
            school      text NOT NULL,
            expense_id  uuid NOT NULL,
            spent_on    date NOT NULL,
            item        text NOT NULL,
            amount      bigint NOT NULL CHECK (amount >= 0),
            activity_id uuid,
            voucher     text,
            seq         bigint NOT NULL,
            PRIMARY KEY (school, expense_id)
        )$q$, schema_name);
    EXECUTE format('CREATE INDEX ON %1$I.expenses (school, spent_on)', schema_name);
END
$fn$;

SELECT public.create_projection('live');
