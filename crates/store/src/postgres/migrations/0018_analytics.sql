-- IVR analytics: counts per app, hour (then local day, span_min = 1440), command position and
-- prompt, added to by every node. `analytics_names` holds the prompts, key values and
-- command sequences an app may count by name; past their caps the rest count as `(other)`.
CREATE TABLE analytics (
    app_id   TEXT   NOT NULL COLLATE "C",
    at_min   BIGINT NOT NULL,
    span_min BIGINT NOT NULL,
    position BIGINT NOT NULL,
    prompt   TEXT   NOT NULL COLLATE "C",
    what     TEXT   NOT NULL COLLATE "C",
    label    TEXT   NOT NULL COLLATE "C",
    n        BIGINT NOT NULL,
    PRIMARY KEY (app_id, at_min, span_min, position, prompt, what, label)
);
CREATE INDEX analytics_by_time ON analytics (at_min);
CREATE TABLE analytics_names (
    app_id TEXT NOT NULL COLLATE "C",
    scope  TEXT NOT NULL COLLATE "C",
    name   TEXT NOT NULL COLLATE "C",
    PRIMARY KEY (app_id, scope, name)
);
