-- Call recordings kept by ivrhook ([recordings]): a row once the object is whole in the
-- recordings store. A pending or failed fetch has no row: its delivery to the recordings
-- destination says where it stands.
CREATE TABLE recordings (
    app_id       TEXT   NOT NULL COLLATE "C",
    call_id      TEXT   NOT NULL COLLATE "C",
    link         TEXT   NOT NULL COLLATE "C",
    report_id    BIGINT NOT NULL,
    object_key   TEXT   NOT NULL,
    size_bytes   BIGINT NOT NULL,
    sha256       TEXT   NOT NULL,
    content_type TEXT   NOT NULL,
    kept_at_ms   BIGINT NOT NULL,
    PRIMARY KEY (app_id, call_id, link)
);
-- A call's recordings (its page); retention, oldest first.
CREATE INDEX recordings_call ON recordings (call_id);
CREATE INDEX recordings_kept ON recordings (kept_at_ms);
