-- Activity counted per app and minute (the overview's charts, for the whole cluster and
-- across restarts); minutes older than two days are rolled into hours (span_min = 60).
CREATE TABLE activity (
    at_min      INTEGER NOT NULL,
    span_min    INTEGER NOT NULL,
    app_id      TEXT    NOT NULL,
    what        TEXT    NOT NULL,
    destination TEXT    NOT NULL,
    label       TEXT    NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (at_min, span_min, app_id, what, destination, label)
) WITHOUT ROWID;
