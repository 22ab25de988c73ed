-- The sender's outbox. An event and its delivery are written in one transaction; retry state
-- lives in the delivery row; a lease (owner + expiry) replaces any lock held across the network.
CREATE TABLE outbound_events (
    id              INTEGER PRIMARY KEY,
    app_id          TEXT    NOT NULL,
    call_id         TEXT    NOT NULL,
    idempotency_key TEXT,
    body            BLOB    NOT NULL,
    created_at_ms   INTEGER NOT NULL
);
CREATE UNIQUE INDEX outbound_events_idempotency
    ON outbound_events (app_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX outbound_events_by_call ON outbound_events (call_id, id);

CREATE TABLE deliveries (
    id                   INTEGER PRIMARY KEY,
    event_id             INTEGER NOT NULL REFERENCES outbound_events (id),
    app_id               TEXT    NOT NULL,
    call_id              TEXT    NOT NULL,
    -- One column, one constraint: a delivery is in exactly one state.
    state                TEXT    NOT NULL DEFAULT 'pending'
                                 CHECK (state IN ('pending', 'delivered', 'dead')),
    -- 0: first attempt not made yet; 1: retrying. Claimed from separate lanes so a retry
    -- backlog never starves first attempts.
    lane                 INTEGER NOT NULL DEFAULT 0 CHECK (lane IN (0, 1)),
    -- Attempts in the current round of the retry schedule (a manual retry starts a new one).
    attempts             INTEGER NOT NULL DEFAULT 0,
    unknown_call_answers INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_ms   INTEGER NOT NULL,
    lease_owner          TEXT,
    lease_expires_at_ms  INTEGER NOT NULL DEFAULT 0,
    created_at_ms        INTEGER NOT NULL,
    updated_at_ms        INTEGER NOT NULL,
    finished_at_ms       INTEGER,
    last_error           TEXT
);
-- The claim query: due deliveries of one app in one lane.
CREATE INDEX deliveries_due ON deliveries (app_id, lane, next_attempt_at_ms) WHERE state = 'pending';
-- The ordering check: an earlier pending delivery for the same call.
CREATE INDEX deliveries_ordering ON deliveries (app_id, call_id, id) WHERE state = 'pending';
-- Listings by state (with or without an app), counts and bulk retry of dead and pending
-- deliveries. Deliberately no index by app alone: every state change would pay for it
-- (measured: deliveries/s rose by about a third without it), for a listing only operators run.
CREATE INDEX deliveries_by_state ON deliveries (state, id);
CREATE INDEX deliveries_by_event ON deliveries (event_id);

CREATE TABLE attempts (
    id            INTEGER PRIMARY KEY,
    delivery_id   INTEGER NOT NULL REFERENCES deliveries (id),
    owner         TEXT    NOT NULL,
    started_at_ms INTEGER NOT NULL,
    duration_ms   INTEGER NOT NULL,
    http_status   INTEGER,
    code          TEXT,
    body_excerpt  TEXT,
    error         TEXT,
    warning       TEXT,
    outcome       TEXT    NOT NULL CHECK (outcome IN ('delivered', 'retry', 'dead'))
);
CREATE INDEX attempts_by_delivery ON attempts (delivery_id, id);
