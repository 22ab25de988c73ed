-- Reads every stored report once to validate migration 8's constraint. It holds a lock that
-- lets other nodes go on receiving meanwhile (SHARE UPDATE EXCLUSIVE), in a transaction of
-- its own, so that migration 10 can attach the table without reading it.
ALTER TABLE reports VALIDATE CONSTRAINT reports_before_days;
