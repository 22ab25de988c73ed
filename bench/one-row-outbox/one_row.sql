\set c random(1, 10000000)
INSERT INTO deliveries (app_id, call_id, body, next_attempt_at_ms, created_at_ms, updated_at_ms) VALUES ('app', 'c' || :c, decode(repeat('ab', 700), 'hex'), 0, 0, 0) RETURNING id AS did \gset
WITH due AS (SELECT id FROM deliveries WHERE id = :did FOR UPDATE SKIP LOCKED) UPDATE deliveries d SET lease_owner = 'o', lease_expires_at_ms = 1, updated_at_ms = 1 FROM due WHERE d.id = due.id RETURNING d.body;
WITH a AS (INSERT INTO attempts (delivery_id, owner, started_at_ms, duration_ms, outcome) VALUES (:did, 'o', 0, 1, 'delivered')) UPDATE deliveries SET state = 'delivered', finished_at_ms = 1, lease_owner = NULL, lease_expires_at_ms = 0, attempts = attempts + 1 WHERE id = :did AND lease_owner = 'o';
