-- The same tables, their CHECK constraints written without IN lists. SQLite checks a
-- constraint `x IN ('a', 'b', 'c')` through a temporary b-tree holding the list, created and
-- dropped for every row written: three of them per delivery (its insert, its attempt, its
-- move), about a tenth of a delivery's instructions (BENCHMARKS.md, step 16). Comparisons
-- joined by OR admit the same values and need none. SQLite cannot change a constraint in
-- place, so both tables are rebuilt: every row is copied once, in this migration's
-- transaction.
CREATE TABLE deliveries_new (
    id                   INTEGER PRIMARY KEY,
    event_id             INTEGER NOT NULL REFERENCES outbound_events (id),
    app_id               TEXT    NOT NULL,
    call_id              TEXT    NOT NULL,
    state                TEXT    NOT NULL DEFAULT 'pending'
                                 CHECK (state = 'pending' OR state = 'delivered' OR state = 'dead'),
    lane                 INTEGER NOT NULL DEFAULT 0 CHECK (lane = 0 OR lane = 1),
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
INSERT INTO deliveries_new SELECT id, event_id, app_id, call_id, state, lane, attempts,
    unknown_call_answers, next_attempt_at_ms, lease_owner, lease_expires_at_ms, created_at_ms,
    updated_at_ms, finished_at_ms, last_error FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX deliveries_due ON deliveries (app_id, lane, next_attempt_at_ms) WHERE state = 'pending';
CREATE INDEX deliveries_ordering ON deliveries (app_id, call_id, id) WHERE state = 'pending';
CREATE INDEX deliveries_by_state ON deliveries (state, id);
CREATE INDEX deliveries_by_event ON deliveries (event_id);

CREATE TABLE attempts_new (
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
    outcome       TEXT    NOT NULL
                          CHECK (outcome = 'delivered' OR outcome = 'retry' OR outcome = 'dead')
);
INSERT INTO attempts_new SELECT id, delivery_id, owner, started_at_ms, duration_ms, http_status,
    code, body_excerpt, error, warning, outcome FROM attempts;
DROP TABLE attempts;
ALTER TABLE attempts_new RENAME TO attempts;
CREATE INDEX attempts_by_delivery ON attempts (delivery_id, id);
