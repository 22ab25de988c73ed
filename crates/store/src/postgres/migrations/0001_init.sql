-- ivrhook's schema on PostgreSQL: the same tables as the SQLite backend's migrations 1–3,
-- in PostgreSQL's types. Times are milliseconds since the epoch (BIGINT), as on SQLite, so
-- both backends share one model and the engine's clock arithmetic.

-- Received reports. The unique key is the dedupe rule (same call, app and content); its
-- call_id prefix also serves the timeline query. The decoded form is derived from raw and
-- utc_offset when read, never stored.
CREATE TABLE reports (
    id                   BIGSERIAL PRIMARY KEY,
    app_id               TEXT      NOT NULL,
    call_id              TEXT      NOT NULL,
    content_hash         BYTEA     NOT NULL,
    event                TEXT      NOT NULL,
    status               BIGINT,
    received_at_ms       BIGINT    NOT NULL,
    peer                 TEXT,
    raw                  BYTEA     NOT NULL,
    utc_offset           TEXT      NOT NULL,
    warnings             TEXT      NOT NULL,
    duplicates           BIGINT    NOT NULL DEFAULT 0 CHECK (duplicates >= 0),
    last_duplicate_at_ms BIGINT
);
CREATE UNIQUE INDEX reports_dedupe ON reports (call_id, app_id, content_hash);

-- Calls a business registered, for apps with require_known_calls.
CREATE TABLE calls (
    app_id           TEXT   NOT NULL,
    call_id          TEXT   NOT NULL,
    registered_at_ms BIGINT NOT NULL,
    PRIMARY KEY (app_id, call_id)
);

-- The sender's outbox. An event and its delivery are written in one transaction; retry state
-- lives in the delivery row; a lease (owner + expiry) replaces any lock held across the network.
CREATE TABLE outbound_events (
    id              BIGSERIAL PRIMARY KEY,
    app_id          TEXT   NOT NULL,
    call_id         TEXT   NOT NULL,
    idempotency_key TEXT,
    body            BYTEA  NOT NULL,
    created_at_ms   BIGINT NOT NULL
);
CREATE UNIQUE INDEX outbound_events_idempotency
    ON outbound_events (app_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX outbound_events_by_call ON outbound_events (call_id, id);

CREATE TABLE deliveries (
    id                   BIGSERIAL PRIMARY KEY,
    event_id             BIGINT NOT NULL REFERENCES outbound_events (id),
    app_id               TEXT   NOT NULL,
    call_id              TEXT   NOT NULL,
    state                TEXT   NOT NULL DEFAULT 'pending'
                                CHECK (state IN ('pending', 'delivered', 'dead')),
    -- 0: first attempt not made yet; 1: retrying (claimed from separate lanes).
    lane                 BIGINT NOT NULL DEFAULT 0 CHECK (lane IN (0, 1)),
    attempts             BIGINT NOT NULL DEFAULT 0,
    unknown_call_answers BIGINT NOT NULL DEFAULT 0,
    next_attempt_at_ms   BIGINT NOT NULL,
    lease_owner          TEXT,
    lease_expires_at_ms  BIGINT NOT NULL DEFAULT 0,
    created_at_ms        BIGINT NOT NULL,
    updated_at_ms        BIGINT NOT NULL,
    finished_at_ms       BIGINT,
    last_error           TEXT
);
-- The claim query: due deliveries of one app in one lane.
CREATE INDEX deliveries_due ON deliveries (app_id, lane, next_attempt_at_ms) WHERE state = 'pending';
-- The ordering check: an earlier pending delivery for the same call.
CREATE INDEX deliveries_ordering ON deliveries (app_id, call_id, id) WHERE state = 'pending';
-- Listings by state, counts and bulk retry (no index by app alone, as on SQLite).
CREATE INDEX deliveries_by_state ON deliveries (state, id);
CREATE INDEX deliveries_by_event ON deliveries (event_id);

CREATE TABLE attempts (
    id            BIGSERIAL PRIMARY KEY,
    delivery_id   BIGINT NOT NULL REFERENCES deliveries (id),
    owner         TEXT   NOT NULL,
    started_at_ms BIGINT NOT NULL,
    duration_ms   BIGINT NOT NULL,
    http_status   BIGINT,
    code          TEXT,
    body_excerpt  TEXT,
    error         TEXT,
    warning       TEXT,
    outcome       TEXT   NOT NULL CHECK (outcome IN ('delivered', 'retry', 'dead'))
);
CREATE INDEX attempts_by_delivery ON attempts (delivery_id, id);
