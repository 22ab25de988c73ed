-- Deliveries are about to be partitioned by the day (UTC) they finished (migration 13). The
-- deliveries stored so far will stay in one partition, `deliveries_pending`, which goes on
-- holding every pending delivery; a day's partition can only be attached beside it if
-- PostgreSQL can tell from a validated constraint, without reading it, that none of its rows
-- finished on that day. This migration sets the first such day, the day after tomorrow, and
-- the constraint: checked from now on for new rows, validated for the old ones by migration
-- 12 without holding writes. Deliveries finishing before that day stay in
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
    -- In the words of migration 13's partition key, so that PostgreSQL can read it as one.
    EXECUTE format('ALTER TABLE deliveries ADD CONSTRAINT deliveries_finished_before_days
                    CHECK (COALESCE(finished_at_ms, 9223372036854775807) < %s
                           OR COALESCE(finished_at_ms, 9223372036854775807)
                              = 9223372036854775807) NOT VALID', first_ms);
END
$$;

-- A delivery's event is removed with it (one event, one delivery); the key would make every
-- removal of an event look for its delivery in every day's partition.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_event_id_fkey;
