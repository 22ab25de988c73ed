-- Everything at once: the one-row outbox, the attempt in the delivery row, and one index by
-- call (call_id, id) for the timeline and the ordering check instead of outbound_events_by_call
-- and deliveries_ordering. Applied on top of migrations 0001-0004.
ALTER TABLE deliveries ADD COLUMN body BYTEA, ADD COLUMN idempotency_key TEXT, ADD COLUMN last_attempt JSONB;
ALTER TABLE deliveries ALTER COLUMN event_id DROP NOT NULL;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_event_id_fkey;
DROP INDEX deliveries_by_event;
DROP INDEX deliveries_ordering;
CREATE INDEX deliveries_by_call ON deliveries (call_id, id);
CREATE UNIQUE INDEX deliveries_idempotency ON deliveries (app_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
