-- Reads every delivery, holding only a lock that lets reads and writes go on (SHARE UPDATE
-- EXCLUSIVE): on its own, so that migration 11's locks are not held meanwhile.
ALTER TABLE deliveries VALIDATE CONSTRAINT deliveries_finished_before_days;
