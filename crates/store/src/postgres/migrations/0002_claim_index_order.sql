-- The claim's index leads with the lane and ends with the id, so that
-- (1) the ordering check ("an earlier pending delivery for this call?") cannot pick it
--     instead of deliveries_ordering: with the app id leading, a planner with stale statistics
--     (a young table, or right after a burst) chose it and scanned every pending delivery of
--     the app once per candidate: 23.6 s per claim at a backlog of 10,684, measured;
-- (2) ORDER BY next_attempt_at_ms, id is the index's own order, so a claim reads only as many
--     rows as its LIMIT instead of sorting the whole due backlog (0.4 ms for the same claim).
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON deliveries (lane, app_id, next_attempt_at_ms, id)
    WHERE state = 'pending';
