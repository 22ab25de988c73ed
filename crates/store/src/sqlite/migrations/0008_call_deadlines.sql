-- A registered call may expect its report by a deadline (reportWithin, or its app's
-- expect_report_within). The sweeper marks a call past it with no report overdue, once; a
-- report marks it reported (late, if it was overdue), and the sweeper announces that once.
ALTER TABLE calls ADD COLUMN report_due_at_ms INTEGER;
ALTER TABLE calls ADD COLUMN reported_at_ms INTEGER;
ALTER TABLE calls ADD COLUMN overdue_at_ms INTEGER;
ALTER TABLE calls ADD COLUMN resolved_at_ms INTEGER;
-- What each sweep reads: calls due and not settled; overdue calls reported since.
CREATE INDEX calls_due ON calls (report_due_at_ms)
    WHERE report_due_at_ms IS NOT NULL AND reported_at_ms IS NULL AND overdue_at_ms IS NULL;
CREATE INDEX calls_late ON calls (overdue_at_ms)
    WHERE overdue_at_ms IS NOT NULL AND reported_at_ms IS NOT NULL AND resolved_at_ms IS NULL;
-- The calls still missing their report, by app (the gauge, the listing).
CREATE INDEX calls_overdue ON calls (app_id, overdue_at_ms, call_id)
    WHERE overdue_at_ms IS NOT NULL AND reported_at_ms IS NULL;
