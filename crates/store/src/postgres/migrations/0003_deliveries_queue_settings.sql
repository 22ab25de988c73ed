-- Deliveries are a queue: rows are claimed from the front of deliveries_due and leave it
-- when they finish, but their entries stay in the index until VACUUM removes them, and every
-- claim reads past them (measured: ~600 index and heap pages per claim at 5,000 deliveries/s
-- a few seconds into a run, against ~20 for the live rows). By default autovacuum waits for
-- a fifth of the table to be dead, which on a table of millions of finished deliveries is
-- millions of entries to read past; here it runs once 5,000 rows are dead, whatever the
-- table's size (it is still checked only every `autovacuum_naptime`, a server setting; see
-- the README).
ALTER TABLE deliveries SET (
    autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 5000,
    autovacuum_analyze_scale_factor = 0.02,
    -- A claim changes only the lease columns, which no index holds: with room left on each
    -- page PostgreSQL updates the row in place (a HOT update) instead of adding an entry to
    -- each of the table's five indexes. Applies to pages written from now on.
    fillfactor = 50
);
