-- The one-row outbox: the event's columns in its delivery row, no outbound_events join,
-- no foreign key, no deliveries_by_event. Applied on top of migrations 0001-0004.
ALTER TABLE deliveries ADD COLUMN body BYTEA, ADD COLUMN idempotency_key TEXT;
ALTER TABLE deliveries ALTER COLUMN event_id DROP NOT NULL;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_event_id_fkey;
DROP INDEX deliveries_by_event;
CREATE INDEX deliveries_by_call ON deliveries (call_id, id);
CREATE UNIQUE INDEX deliveries_idempotency ON deliveries (app_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
