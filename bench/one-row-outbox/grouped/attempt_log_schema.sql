-- Every attempt kept in its delivery row, as a JSON array each record appends to, its id
-- drawn from attempts' own sequence; the attempts table stays for rows written before.
-- Applied on top of migrations 0001-0004.
ALTER TABLE deliveries ADD COLUMN attempt_log JSONB NOT NULL DEFAULT '[]';
