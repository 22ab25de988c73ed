-- Deliveries go to destinations: an app's callback URL (the sender), or a place received
-- reports are forwarded to (a webhook, a NATS subject, a RabbitMQ exchange). A delivery now
-- delivers either a submitted event or a received report, and claims, ordering and counts are
-- per destination. SQLite cannot drop NOT NULL from event_id in place, so the table is
-- rebuilt (every row copied once, in this migration's transaction). An existing delivery goes
-- to its app's callback destination, named `app:<appId>`.
CREATE TABLE deliveries_new (
    id                   INTEGER PRIMARY KEY,
    event_id             INTEGER REFERENCES outbound_events (id),
    report_id            INTEGER REFERENCES reports (id),
    destination          TEXT    NOT NULL,
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
    last_error           TEXT,
    -- One source: an event or a report.
    CHECK ((event_id IS NULL) <> (report_id IS NULL))
);
INSERT INTO deliveries_new SELECT id, event_id, NULL, 'app:' || app_id, app_id, call_id, state,
    lane, attempts, unknown_call_answers, next_attempt_at_ms, lease_owner, lease_expires_at_ms,
    created_at_ms, updated_at_ms, finished_at_ms, last_error FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
-- The claim query: due deliveries of one destination in one lane.
CREATE INDEX deliveries_due ON deliveries (destination, lane, next_attempt_at_ms)
    WHERE state = 'pending';
-- The ordering check: an earlier pending delivery of the same call to the same destination.
CREATE INDEX deliveries_ordering ON deliveries (destination, call_id, id) WHERE state = 'pending';
CREATE INDEX deliveries_by_state ON deliveries (state, id);
-- A delivery by its source (idempotency, the timeline): each only over the deliveries of
-- its kind, so a forward's insert does not enter the events' index and the other way round.
CREATE INDEX deliveries_by_event ON deliveries (event_id) WHERE event_id IS NOT NULL;
CREATE INDEX deliveries_by_report ON deliveries (report_id) WHERE report_id IS NOT NULL;

-- Named consumers of the report feed: the id of the last report each acknowledged.
CREATE TABLE consumers (
    name          TEXT    PRIMARY KEY,
    cursor        INTEGER NOT NULL CHECK (cursor >= 0),
    updated_at_ms INTEGER NOT NULL
) WITHOUT ROWID;
