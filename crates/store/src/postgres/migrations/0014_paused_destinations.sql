-- Destinations an operator paused (POST /v1/destinations/{name}/pause): no node sends to them
-- until they are resumed. Stored, so a pause outlives restarts and holds on every node.
CREATE TABLE paused_destinations (
    destination  TEXT   PRIMARY KEY COLLATE "C",
    paused_at_ms BIGINT NOT NULL
);
