-- Each hot query can be served by one index only, whatever the planner believes.
--
-- A connection's prepared claim settles on a generic plan, and on a young table that plan was
-- made from a few pages of guesses: the ordering check ("an earlier pending delivery for this
-- call?") then read deliveries_due, with the app id and the id as non-leading conditions. That
-- is every pending delivery of the app, once per candidate: one claim ran for over 100 s at a
-- backlog of thousands (BENCHMARKS.md, "Runs that stall"). With statistics saying almost
-- nothing is pending, claims and checks read deliveries_by_state (state = 'pending') instead:
-- every pending delivery, then a sort.
--
-- (1) The ordering check names pending rows by finished_at_ms IS NULL, which only
--     deliveries_ordering's predicate uses, so no index on state can serve it; the constraint
--     makes the two descriptions of "pending" one fact.
ALTER TABLE deliveries ADD CONSTRAINT deliveries_finished_unless_pending
    CHECK ((state = 'pending') = (finished_at_ms IS NULL));
DROP INDEX deliveries_ordering;
CREATE INDEX deliveries_ordering ON deliveries (app_id, call_id, id) WHERE finished_at_ms IS NULL;
-- (2) Listings, counts and bulk retries of finished deliveries keep their index; the claim,
--     whose state = 'pending' contradicts this predicate, cannot read it. Pending deliveries
--     are listed and counted through deliveries_due.
DROP INDEX deliveries_by_state;
CREATE INDEX deliveries_by_state ON deliveries (state, id) WHERE state <> 'pending';
