-- Received reports. The unique key is the dedupe rule (same call, app and content), and its
-- call_id prefix also serves the timeline query: one index instead of two on the write path.
CREATE TABLE reports (
    id                   INTEGER PRIMARY KEY,
    app_id               TEXT    NOT NULL,
    call_id              TEXT    NOT NULL,
    content_hash         BLOB    NOT NULL,
    event                TEXT    NOT NULL,
    status               INTEGER,
    received_at_ms       INTEGER NOT NULL,
    peer                 TEXT,
    raw                  BLOB    NOT NULL,
    decoded              TEXT    NOT NULL,
    warnings             TEXT    NOT NULL,
    duplicates           INTEGER NOT NULL DEFAULT 0 CHECK (duplicates >= 0),
    last_duplicate_at_ms INTEGER
);
CREATE UNIQUE INDEX reports_dedupe ON reports (call_id, app_id, content_hash);

-- Calls a business registered, for apps with require_known_calls.
CREATE TABLE calls (
    app_id           TEXT    NOT NULL,
    call_id          TEXT    NOT NULL,
    registered_at_ms INTEGER NOT NULL,
    PRIMARY KEY (app_id, call_id)
) WITHOUT ROWID;
