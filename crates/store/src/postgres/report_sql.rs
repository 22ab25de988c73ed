//! The group statement of received reports, one text per day (`report_batch`): it inserts into
//! the day's partition by name and looks for earlier copies in the partitions named in it.

use super::days::{self, Day};
use crate::StoreError;
use deadpool_postgres::Object;
use std::sync::Mutex;
use tokio_postgres::{error::SqlState, Statement};

/// The group's reports, received on one day, then the forward deliveries of those that are
/// new, each found by its report's key. A report is a duplicate if its key is in the day's
/// partition (`ON CONFLICT`, across every node) or in one of the earlier partitions named in
/// `@found` (`prior`); otherwise it is new (`xmax = 0`: inserted, not updated). Deliveries
/// are inserted in the order of their reports' ids, so a call's later report gets later
/// delivery ids: the order its deliveries go in.
///
/// `found` probes each earlier partition once per report through its dedupe key (a subquery
/// per row cannot become a scan of the partition, whatever the statistics); `prior` then
/// updates only the rows found (`id = ANY`), in each earlier partition by name, so that no
/// other day's partition is opened.
///
/// `lease` decides each forward's lease offer once (`MATERIALIZED`), as `submit_batch` does
/// for events: an ordered destination's delivery is leased only if no earlier report of its
/// call in the group goes to the same destination and no delivery of its call to it is
/// unfinished (read through `deliveries_ordering`, one probe per forward). Each report comes
/// back with its leased deliveries, for the node to send.
pub(super) const INSERT_MANY: &str = "
    WITH input AS (
        SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::text[], $5::bigint[],
                             $6::bigint[], $7::text[], $8::bytea[], $9::text[], $10::text[],
                             $11::bigint[], $12::bigint[]) WITH ORDINALITY
            AS t(app_id, call_id, content_hash, event, status, received_at_ms, peer, raw,
                 utc_offset, warnings, duplicates, last_duplicate_at_ms, g)),
    found AS MATERIALIZED (
        SELECT f.* FROM (SELECT i.g, i.duplicates, i.received_at_ms, @found AS id
                         FROM input i) f
        WHERE f.id IS NOT NULL),
    @prior
    reported AS (
        UPDATE calls c SET reported_at_ms = i.received_at_ms FROM input i
        WHERE c.app_id = i.app_id AND c.call_id = i.call_id AND c.reported_at_ms IS NULL),
    ins AS (
        INSERT INTO @table AS r (app_id, call_id, content_hash, event, status, received_at_ms,
                                 peer, raw, utc_offset, warnings, duplicates,
                                 last_duplicate_at_ms)
        SELECT app_id, call_id, content_hash, event, status, received_at_ms, peer, raw,
               utc_offset, warnings, duplicates, last_duplicate_at_ms
        FROM input i WHERE NOT EXISTS (SELECT 1 FROM found f WHERE f.g = i.g) ORDER BY g
        ON CONFLICT (call_id, app_id, content_hash)
        DO UPDATE SET duplicates = r.duplicates + excluded.duplicates + 1,
                      last_duplicate_at_ms = excluded.received_at_ms
        RETURNING id, duplicates, xmax = 0 AS new, call_id, app_id, content_hash),
    fwd AS MATERIALIZED (
        SELECT ins.id AS report_id, ins.app_id, ins.call_id, f.destination, f.due,
               i.received_at_ms, f.lease_owner, f.lease_until, f.ordered, f.n
        FROM unnest($13::bigint[], $14::text[], $15::bigint[], $16::text[], $17::bigint[],
                    $18::bool[]) WITH ORDINALITY
                 AS f(g, destination, due, lease_owner, lease_until, ordered, n)
             JOIN input i ON i.g = f.g
             JOIN ins ON ins.new AND ins.call_id = i.call_id AND ins.app_id = i.app_id
                     AND ins.content_hash = i.content_hash),
    lease AS MATERIALIZED (
        SELECT x.n, x.lease_owner IS NOT NULL AND (NOT x.ordered OR (
            NOT EXISTS (SELECT 1 FROM fwd y
                        WHERE y.destination = x.destination AND y.call_id = x.call_id
                          AND y.report_id < x.report_id)
            AND (SELECT true FROM deliveries_pending p
                 WHERE p.finished_at_ms IS NULL AND p.destination = x.destination
                   AND p.call_id = x.call_id LIMIT 1) IS NULL)) AS taken
        FROM fwd x),
    forwarded AS (
        INSERT INTO deliveries (report_id, destination, app_id, call_id, next_attempt_at_ms,
                                created_at_ms, updated_at_ms, lease_owner, lease_expires_at_ms)
        SELECT x.report_id, x.destination, x.app_id, x.call_id, x.due, x.received_at_ms,
               x.received_at_ms, CASE WHEN l.taken THEN x.lease_owner END,
               CASE WHEN l.taken THEN x.lease_until ELSE 0 END
        FROM fwd x JOIN lease l ON l.n = x.n
        ORDER BY x.report_id, x.n
        RETURNING report_id, destination, id, lease_owner IS NOT NULL AS leased)
    SELECT s.id, s.duplicates, s.new, s.call_id, s.app_id, s.content_hash,
           l.destinations, l.ids
    FROM (SELECT id, duplicates, new, call_id, app_id, content_hash FROM ins
          UNION ALL
          SELECT id, duplicates, false, call_id, app_id, content_hash FROM prior) s
    LEFT JOIN (
        SELECT report_id, array_agg(destination ORDER BY id) AS destinations,
               array_agg(id ORDER BY id) AS ids
        FROM forwarded WHERE leased GROUP BY report_id) l ON l.report_id = s.id";

/// A connection lets go of its prepared statements past this many: each day has a text of
/// its own.
const MAX_CACHED: usize = 100;

/// The group statement for reports received on `day`, looking for earlier copies in the
/// partitions `earlier` (at most one probe per report reaches each).
pub(super) fn insert_sql(day: Day, earlier: &[String]) -> String {
    let probe = |table: &String| {
        format!(
            "(SELECT p.id FROM {table} p WHERE p.call_id = i.call_id AND p.app_id = i.app_id
                 AND p.content_hash = i.content_hash)"
        )
    };
    let found = match earlier {
        [] => "NULL::bigint".to_owned(),
        tables => format!(
            "COALESCE({})",
            tables.iter().map(probe).collect::<Vec<_>>().join(", ")
        ),
    };
    let update = |(n, table): (usize, &String)| {
        format!(
            "prior_{n} AS (
                 UPDATE {table} r SET duplicates = r.duplicates + f.duplicates + 1,
                                      last_duplicate_at_ms = f.received_at_ms
                 FROM found f WHERE r.id = f.id AND r.id = ANY(ARRAY(SELECT id FROM found))
                 RETURNING r.id, r.duplicates, r.call_id, r.app_id, r.content_hash),"
        )
    };
    let mut prior: Vec<String> = earlier.iter().enumerate().map(update).collect();
    let union = (0..earlier.len())
        .map(|n| format!("SELECT * FROM prior_{n}"))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    prior.push(if union.is_empty() {
        "prior AS (SELECT NULL::bigint AS id, NULL::bigint AS duplicates, NULL::text AS call_id,
                          NULL::text AS app_id, NULL::bytea AS content_hash WHERE false),"
            .to_owned()
    } else {
        format!("prior AS ({union}),")
    });
    INSERT_MANY
        .replace("@table", &day.table())
        .replace("@found", &found)
        .replace("@prior", &prior.join("\n    "))
}

/// The text of the day being written, shared by a node's connections.
#[derive(Debug, Default)]
pub(crate) struct DayStatement {
    current: Mutex<Option<(Day, String)>>,
}

impl DayStatement {
    /// `day`'s group statement on this connection: its partition created if it is missing,
    /// the earlier partitions to look in decided once a day.
    pub(super) async fn prepare(
        &self,
        client: &mut Object,
        day: Day,
    ) -> Result<Statement, StoreError> {
        if client.statement_cache.size() > MAX_CACHED {
            client.statement_cache.clear();
        }
        let sql = match self.text(day) {
            Some(sql) => sql,
            None => {
                let sql = insert_sql(day, &days::earlier(client, day).await?);
                self.set(day, sql.clone());
                sql
            }
        };
        match client.prepare_cached(&sql).await {
            Err(e) if e.code() == Some(&SqlState::UNDEFINED_TABLE) => {
                // The day's partition is missing, or an earlier one named went meanwhile.
                self.forget(client);
                days::ensure(client, day).await?;
                let sql = insert_sql(day, &days::earlier(client, day).await?);
                self.set(day, sql.clone());
                Ok(client.prepare_cached(&sql).await?)
            }
            prepared => Ok(prepared?),
        }
    }

    /// Forgets the day's text, on this connection and for the node, after a statement failed
    /// because a partition it named is gone (retention shorter than a day): the next group
    /// builds it again.
    pub(super) fn forget(&self, client: &Object) {
        client.statement_cache.clear();
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    fn text(&self, day: Day) -> Option<String> {
        let current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        current
            .as_ref()
            .filter(|(d, _)| *d == day)
            .map(|(_, s)| s.clone())
    }

    fn set(&self, day: Day, sql: String) {
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = Some((day, sql));
    }
}
