-- Deliveries are partitioned by the day (UTC) they finished, so that retention removes a day
-- of finished deliveries by dropping its tables, whatever their size, instead of deleting
-- rows one by one. Pending deliveries all live in one partition, `deliveries_pending`: the
-- claim, the ordering check and an attempt's record read that one table, and a delivery
-- that finishes moves to its day's partition. The key reads a pending delivery's missing
-- finish as 0, in the range of `deliveries_pending` (every time before the first day with a
-- partition, `deliveries_days_from`): a statement can name the pending partition by it
-- without naming the pending-only indexes' predicates, which a planner would otherwise be
-- free to walk. There is no default partition, so attaching a day reads and locks no other
-- partition. A day's partition, `deliveries_YYYYMMDD`, is split by state (`…_delivered`,
-- `…_dead`), because delivered and dead deliveries are kept for different times. Days are
-- created ahead by the node that prunes (`days.rs`).
--
-- The deliveries stored before this migration stay where they are: the table becomes
-- `deliveries_pending`, and its finished rows are pruned row by row, as before. Renaming and
-- attaching read no rows and build no index (the parent's indexes are the table's own): the
-- lock on deliveries is held for milliseconds.
ALTER TABLE deliveries RENAME TO deliveries_pending;
ALTER INDEX deliveries_pkey RENAME TO deliveries_pending_pkey;
ALTER INDEX deliveries_due RENAME TO deliveries_pending_due;
ALTER INDEX deliveries_ordering RENAME TO deliveries_pending_ordering;
ALTER INDEX deliveries_by_state RENAME TO deliveries_pending_by_state;
ALTER INDEX deliveries_by_event RENAME TO deliveries_pending_by_event;
ALTER INDEX deliveries_by_report RENAME TO deliveries_pending_by_report;

CREATE TABLE deliveries (
    id                   BIGINT           NOT NULL DEFAULT nextval('deliveries_id_seq'),
    event_id             BIGINT,
    app_id               TEXT COLLATE "C" NOT NULL,
    call_id              TEXT COLLATE "C" NOT NULL,
    state                TEXT COLLATE "C" NOT NULL DEFAULT 'pending'
                         CONSTRAINT deliveries_state_check
                         CHECK (state IN ('pending', 'delivered', 'dead')),
    lane                 BIGINT           NOT NULL DEFAULT 0
                         CONSTRAINT deliveries_lane_check CHECK (lane IN (0, 1)),
    attempts             BIGINT           NOT NULL DEFAULT 0,
    unknown_call_answers BIGINT           NOT NULL DEFAULT 0,
    next_attempt_at_ms   BIGINT           NOT NULL,
    lease_owner          TEXT,
    lease_expires_at_ms  BIGINT           NOT NULL DEFAULT 0,
    created_at_ms        BIGINT           NOT NULL,
    updated_at_ms        BIGINT           NOT NULL,
    finished_at_ms       BIGINT,
    last_error           TEXT,
    attempt_log          JSONB            NOT NULL DEFAULT '[]',
    report_id            BIGINT,
    destination          TEXT COLLATE "C" NOT NULL,
    CONSTRAINT deliveries_finished_unless_pending
        CHECK ((state = 'pending') = (finished_at_ms IS NULL)),
    CONSTRAINT deliveries_one_source CHECK ((event_id IS NULL) <> (report_id IS NULL))
) PARTITION BY RANGE ((COALESCE(finished_at_ms, 0)));
ALTER SEQUENCE deliveries_id_seq OWNED BY deliveries.id;
DO $$
BEGIN
    EXECUTE format('ALTER TABLE deliveries ATTACH PARTITION deliveries_pending
                    FOR VALUES FROM (MINVALUE) TO (%s)', (SELECT ms FROM deliveries_days_from));
END
$$;

-- The indexes every partition needs: by event (a call's sent events) and by report (a
-- call's forwards), found on `deliveries_pending` and adopted, not built. The claim and
-- ordering indexes and the index by state stay on `deliveries_pending` alone: a finished
-- day's table holds no pending row and one state, and each index it has is one more lock for
-- every read that spans the days. A day's table also has its own primary key.
CREATE INDEX deliveries_by_event ON deliveries (event_id);
CREATE INDEX deliveries_by_report ON deliveries (report_id) WHERE report_id IS NOT NULL;

-- The partition's bound says what migration 11's constraint said; the constraint would only
-- be one more expression for every write to check.
ALTER TABLE deliveries_pending DROP CONSTRAINT deliveries_finished_before_days;
