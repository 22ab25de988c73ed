-- Deliveries are about to be partitioned by the day (UTC) they finished (migration 13). The
-- deliveries stored so far will stay in one partition, `deliveries_pending`, which goes on
-- holding every pending delivery: the range of times before the first day with a partition of
-- its own. PostgreSQL attaches the table to that range without reading it if a validated
-- constraint says its rows are in it. This migration sets that day, the day after tomorrow,
-- and the constraint: checked from now on for new rows, validated for the old ones by
-- migration 12 without holding writes. Deliveries finishing before that day stay in
-- `deliveries_pending` and retention prunes them row by row, as before.
CREATE TABLE deliveries_days_from (
    ms BIGINT NOT NULL
);
DO $$
DECLARE
    day_ms CONSTANT BIGINT := 86400000;
    first_ms BIGINT := (floor(extract(epoch FROM now()) * 1000 / day_ms)::BIGINT + 2) * day_ms;
BEGIN
    INSERT INTO deliveries_days_from (ms) VALUES (first_ms);
    -- In the words of migration 13's partition key and bound, so that PostgreSQL reads it as
    -- the bound (whose first term it needs written out, though no COALESCE here is null).
    EXECUTE format('ALTER TABLE deliveries ADD CONSTRAINT deliveries_finished_before_days
                    CHECK (COALESCE(finished_at_ms, 0) IS NOT NULL
                           AND COALESCE(finished_at_ms, 0) < %s) NOT VALID', first_ms);
END
$$;

-- A delivery's event is removed with it (one event, one delivery); the key would make every
-- removal of an event look for its delivery in every day's partition.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_event_id_fkey;
