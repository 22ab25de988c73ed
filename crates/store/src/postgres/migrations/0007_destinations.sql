-- Deliveries go to destinations: an app's callback URL (the sender), or a place received
-- reports are forwarded to (a webhook, a NATS subject, a RabbitMQ exchange). A delivery now
-- delivers either a submitted event or a received report, and claims, ordering and counts are
-- per destination. An existing delivery goes to its app's callback destination, `app:<appId>`:
-- setting it rewrites every delivery row, in this migration's transaction (README: run it as a
-- release step).
ALTER TABLE deliveries
    ALTER COLUMN event_id DROP NOT NULL,
    ADD COLUMN report_id BIGINT REFERENCES reports (id),
    ADD COLUMN destination TEXT COLLATE "C";
UPDATE deliveries SET destination = 'app:' || app_id;
ALTER TABLE deliveries
    ALTER COLUMN destination SET NOT NULL,
    -- One source: an event or a report.
    ADD CONSTRAINT deliveries_one_source CHECK ((event_id IS NULL) <> (report_id IS NULL));

-- The claim and ordering indexes of migration 4, by destination instead of app: each still
-- the only index that can serve its question (the reasoning is in migrations 2 and 4).
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON deliveries (lane, destination, next_attempt_at_ms, id)
    WHERE state = 'pending';
DROP INDEX deliveries_ordering;
CREATE INDEX deliveries_ordering ON deliveries (destination, call_id, id)
    WHERE finished_at_ms IS NULL;
-- A call's forwarded reports with their deliveries (the timeline).
CREATE INDEX deliveries_by_report ON deliveries (report_id) WHERE report_id IS NOT NULL;

-- Named consumers of the report feed: the id of the last report each acknowledged.
CREATE TABLE consumers (
    name          TEXT COLLATE "C" PRIMARY KEY,
    cursor        BIGINT NOT NULL CHECK (cursor >= 0),
    updated_at_ms BIGINT NOT NULL
);
