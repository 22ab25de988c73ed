-- Reports are partitioned by the day (UTC) they were received, so that retention removes a
-- day by dropping its partition, whatever its size, instead of deleting its rows one by one.
--
-- A day's partition holds the ids from day * 2^32 up (days since 1970-01-01), drawn from a
-- sequence of its own, so a report's id names its partition: reads by id (the feed, a
-- delivery's report) touch one partition, and ids keep growing from one day to the next.
-- Partitions are created ahead by the node that prunes, and by a receiving node that finds
-- its day's partition missing (`days.rs`).
--
-- The dedupe key is unique within each partition; the receiver also looks for a copy in the
-- day before (and in `reports_before_days`), so a platform's retry across midnight is still a
-- duplicate.
--
-- The reports stored before this migration stay where they are, as the partition of ids
-- below 2^40 (`reports_before_days`), pruned row by row as before. Renaming and attaching
-- read no rows (migration 9 validated the range): the lock on reports is held for
-- milliseconds.
ALTER TABLE reports RENAME TO reports_before_days;
ALTER INDEX reports_pkey RENAME TO reports_before_days_pkey;
ALTER INDEX reports_dedupe RENAME TO reports_before_days_dedupe;

CREATE TABLE reports (
    id                   BIGINT           NOT NULL,
    app_id               TEXT COLLATE "C" NOT NULL,
    call_id              TEXT COLLATE "C" NOT NULL,
    content_hash         BYTEA            NOT NULL,
    event                TEXT             NOT NULL,
    status               BIGINT,
    received_at_ms       BIGINT           NOT NULL,
    peer                 TEXT,
    raw                  BYTEA            NOT NULL,
    utc_offset           TEXT             NOT NULL,
    warnings             TEXT             NOT NULL,
    duplicates           BIGINT           NOT NULL DEFAULT 0
                         CONSTRAINT reports_duplicates_check CHECK (duplicates >= 0),
    last_duplicate_at_ms BIGINT,
    PRIMARY KEY (id)
) PARTITION BY RANGE (id);
ALTER TABLE reports ATTACH PARTITION reports_before_days
    FOR VALUES FROM (MINVALUE) TO (1099511627776);

-- Reports whose day was dropped while a delivery of theirs was pending, kept with their ids
-- until retention finds them finished.
CREATE TABLE reports_kept PARTITION OF reports DEFAULT;
CREATE UNIQUE INDEX reports_kept_dedupe ON reports_kept (call_id, app_id, content_hash);
