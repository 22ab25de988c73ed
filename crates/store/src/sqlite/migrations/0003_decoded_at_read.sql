-- The decoded form is derived from the raw body when read, not stored: rows shrink to about a
-- third (several fit a 4 KiB page) and the receiver's write path does less (measured in
-- BENCHMARKS.md). New rows store '' in `decoded` and the UTC offset their timestamps were
-- read with; rows written before keep their stored decoded form.
ALTER TABLE reports ADD COLUMN utc_offset TEXT;
