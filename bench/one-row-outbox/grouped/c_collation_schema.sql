-- Identifiers compared as bytes: app and call ids, idempotency keys and states in COLLATE "C",
-- so that the btree comparisons of their indexes are memcmp, not strcoll. Applied on top of
-- migrations 0001-0004.
ALTER TABLE outbound_events ALTER COLUMN app_id TYPE TEXT COLLATE "C",
    ALTER COLUMN call_id TYPE TEXT COLLATE "C", ALTER COLUMN idempotency_key TYPE TEXT COLLATE "C";
ALTER TABLE deliveries ALTER COLUMN app_id TYPE TEXT COLLATE "C",
    ALTER COLUMN call_id TYPE TEXT COLLATE "C", ALTER COLUMN state TYPE TEXT COLLATE "C",
    ALTER COLUMN lease_owner TYPE TEXT COLLATE "C";
