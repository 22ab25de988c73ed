-- Identifiers compare as bytes. App and call ids, idempotency keys and delivery states are
-- opaque strings, never natural-language text, but they took the database's default
-- collation, so every comparison in their indexes (the report dedupe key, the calls key,
-- the claim, ordering and listing indexes) called the locale's strcoll:
-- - slower: 600,000 (app id, call id) rows into an indexed table took 25-30 % less time in
--   "C" than in an ICU en-US collation, 4-6 % less than in C.UTF-8 (BENCHMARKS.md, step 18);
-- - fragile: an operating system upgrade that changes the locale's sort order (glibc 2.28
--   did, for most locales) leaves such indexes out of order, and a unique index out of order
--   can let a duplicate in or miss a row. Byte order never changes.
-- It is also the SQLite backend's order (BINARY). Only the indexes are rebuilt: the column's
-- type stays TEXT, so the table is not rewritten. Writes to these tables wait meanwhile.
ALTER TABLE reports
    ALTER COLUMN app_id TYPE TEXT COLLATE "C",
    ALTER COLUMN call_id TYPE TEXT COLLATE "C";
ALTER TABLE calls
    ALTER COLUMN app_id TYPE TEXT COLLATE "C",
    ALTER COLUMN call_id TYPE TEXT COLLATE "C";
ALTER TABLE outbound_events
    ALTER COLUMN app_id TYPE TEXT COLLATE "C",
    ALTER COLUMN call_id TYPE TEXT COLLATE "C",
    ALTER COLUMN idempotency_key TYPE TEXT COLLATE "C";
ALTER TABLE deliveries
    ALTER COLUMN app_id TYPE TEXT COLLATE "C",
    ALTER COLUMN call_id TYPE TEXT COLLATE "C",
    ALTER COLUMN state TYPE TEXT COLLATE "C";
