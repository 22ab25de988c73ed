-- Destinations an operator paused (POST /v1/destinations/{name}/pause): nothing is sent to
-- them until they are resumed. Stored, so a pause outlives restarts.
CREATE TABLE paused_destinations (
    destination  TEXT    PRIMARY KEY,
    paused_at_ms INTEGER NOT NULL
) WITHOUT ROWID;
