-- Each delivery keeps its attempts in its own row: a JSON array that every attempt record
-- appends to, instead of a row of its own in `attempts`. A delivery that succeeds at once
-- then costs two row writes (its submission and its record) instead of three, and its record
-- one heap tuple and three index entries fewer: half the WAL records and about 40 % fewer
-- buffers per record (BENCHMARKS.md, PostgreSQL step 18; end to end, deliveries a second were
-- within the spread). A delivery's attempts are only ever read together, with their delivery,
-- and a retry schedule bounds how many there are.
--
-- Entries keep the columns the table had; a null column is left out of its entry. `lease_lost`
-- (true, or absent) marks an attempt whose lease had passed to another owner by the time it
-- was recorded: the attempt is kept, the delivery was left to that owner.
ALTER TABLE deliveries ADD COLUMN attempt_log JSONB NOT NULL DEFAULT '[]';

-- Existing attempts move into their rows, in the order of their ids. This rewrites every
-- delivery that has an attempt, in this one transaction (README: run it as a release step).
UPDATE deliveries d SET attempt_log = a.log
FROM (
    SELECT delivery_id,
           jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
               'id', id, 'owner', owner, 'started_at_ms', started_at_ms,
               'duration_ms', duration_ms, 'http_status', http_status, 'code', code,
               'body_excerpt', body_excerpt, 'error', error, 'warning', warning,
               'outcome', outcome)) ORDER BY id) AS log
    FROM attempts GROUP BY delivery_id
) a
WHERE d.id = a.delivery_id;

-- Attempt ids stay unique and keep increasing: new entries draw theirs from the table's
-- sequence, which outlives the table.
ALTER SEQUENCE attempts_id_seq OWNED BY NONE;
ALTER SEQUENCE attempts_id_seq RENAME TO attempt_ids;
DROP TABLE attempts;
