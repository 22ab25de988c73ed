-- IVR analytics: counts per app, hour (then local day, span_min = 1440), command position and
-- prompt, added to by every node. `analytics_names` holds the prompts, key values and
-- command sequences an app may count by name; past their caps the rest count as `(other)`.
CREATE TABLE analytics (
    app_id   TEXT    NOT NULL,
    at_min   INTEGER NOT NULL,
    span_min INTEGER NOT NULL,
    position INTEGER NOT NULL,
    prompt   TEXT    NOT NULL,
    what     TEXT    NOT NULL,
    label    TEXT    NOT NULL,
    n        INTEGER NOT NULL,
    PRIMARY KEY (app_id, at_min, span_min, position, prompt, what, label)
) WITHOUT ROWID;
CREATE INDEX analytics_by_time ON analytics (at_min);
CREATE TABLE analytics_names (
    app_id TEXT NOT NULL,
    scope  TEXT NOT NULL,
    name   TEXT NOT NULL,
    PRIMARY KEY (app_id, scope, name)
) WITHOUT ROWID;
