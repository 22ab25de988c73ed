-- The attempt kept in its delivery row (a JSON value appended to by each record) instead of a
-- row of its own in attempts. Applied on top of migrations 0001-0004.
ALTER TABLE deliveries ADD COLUMN last_attempt JSONB;
