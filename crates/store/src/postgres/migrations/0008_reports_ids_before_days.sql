-- Reports are partitioned by the day they were received (migration 10). The rows stored
-- until then become the partition of ids below 2^40 (day partitions' ids start at the day's
-- number times 2^32, far above), and this constraint, once validated (migration 9), lets
-- PostgreSQL attach the table as that partition without reading it. NOT VALID: adding it
-- reads nothing; rows written from now on are checked.
ALTER TABLE reports ADD CONSTRAINT reports_before_days CHECK (id < 1099511627776) NOT VALID;

-- A delivery names its report by id without a foreign key: a day of reports is removed by
-- dropping its partition, which a key referencing the table would forbid. Retention keeps a
-- report with a pending delivery (moved into `reports_kept`) and removes the finished
-- deliveries of the reports it drops.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_report_id_fkey;
