-- Activity counted per app and minute (the overview's charts, for the whole cluster and
-- across restarts); minutes older than two days are rolled into hours (span_min = 60).
CREATE TABLE activity (
    at_min      BIGINT NOT NULL,
    span_min    BIGINT NOT NULL,
    app_id      TEXT   NOT NULL COLLATE "C",
    what        TEXT   NOT NULL COLLATE "C",
    destination TEXT   NOT NULL COLLATE "C",
    label       TEXT   NOT NULL COLLATE "C",
    n           BIGINT NOT NULL,
    PRIMARY KEY (at_min, span_min, app_id, what, destination, label)
);
