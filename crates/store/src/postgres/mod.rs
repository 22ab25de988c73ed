//! The PostgreSQL backend, for several ivrhook nodes sharing one database.
//!
//! Every write is committed before its call returns (PostgreSQL's default
//! `synchronous_commit = on` makes a commit durable); received reports, submitted events and
//! attempt records are written in groups, one commit per group. All of it goes through a
//! connection pool with timeouts: a database that goes away fails writes within seconds (the
//! receiver answers `108104`) and the pool reconnects by itself when it returns. Claims lock with
//! `FOR UPDATE SKIP LOCKED`; leases expire, so a killed node's deliveries are claimed by the
//! others. `NOTIFY` wakes every node's engine when work arrives (`notify`).
//!
//! - `schema`: versioned migrations under an advisory lock.
//! - `reports`, `outbox`, `outbox_read`: each backend owns its SQL.
//! - `batch`, `report_batch` (with `report_sql`), `submit_batch`, `record_batch`: writes in
//!   groups, one commit each.
//! - `days`, `day_drop`: reports partitioned by the day they were received.
//! - `floors`: where each claim starts reading the claim index.
//! - `tls`, `verify`: TLS as the URL's `sslmode` asks.
//! - `scratch`: throwaway databases for tests and benchmarks.

mod activity;
mod analytics;
mod batch;
mod day_drop;
mod days;
mod deadlines;
mod finished_days;
mod floors;
mod moved;
mod notify;
mod outbox;
mod outbox_read;
mod paused;
mod prune;
mod record_batch;
mod recordings;
mod report_batch;
mod report_sql;
mod reports;
mod schema;
pub mod scratch;
mod submit_batch;
#[cfg(test)]
mod test_support;
mod tls;
mod verify;

use crate::{Migrations, StoreError};
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use std::time::Duration;
use tls::Connect;
use tokio::sync::{broadcast, mpsc};
use tokio_postgres::{types::ToSql, Row};
use tokio_util::sync::CancellationToken;

mod store_impl;

/// Connections per node by default: enough for the grouped writers, claims, records and API
/// reads to overlap their round trips, and few enough that PostgreSQL's default
/// `max_connections` (100) holds five nodes.
pub const POOL_SIZE: usize = 16;

/// How long a request waits for a connection, or for a new one to open, before failing.
const POOL_TIMEOUT: Duration = Duration::from_secs(5);

/// The backend for several nodes sharing one PostgreSQL: a connection pool, grouped writes,
/// claims with `SKIP LOCKED`, and `NOTIFY` between nodes.
pub struct PgStore {
    pool: Pool,
    location: String,
    /// What the listener heard from other nodes (`notify::listen`).
    heard: notify::Heard,
    /// Received reports for the group inserter (`batch`).
    inserts: mpsc::UnboundedSender<report_batch::Job>,
    /// Events for the group writer (`submit_batch`).
    submissions: mpsc::UnboundedSender<submit_batch::Job>,
    /// Attempt records for the group writer (`record_batch`).
    records: mpsc::UnboundedSender<record_batch::Job>,
    /// What to announce to other nodes (`notify::announce`).
    announcements: mpsc::UnboundedSender<notify::Announcement>,
    /// This store's name in its announcements, so its own come back to it ignored.
    origin: String,
    /// Where claims start reading the claim index.
    floors: std::sync::Arc<floors::Floors>,
    /// For the LISTEN connection, opened by the first `wake_ups` (only nodes that deliver).
    listen: std::sync::Mutex<Option<Connect>>,
    stop: CancellationToken,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

/// The connection pool. Every statement ivrhook runs on a hot path is written for an index
/// (the plan tests), but a connection keeps the generic plan it made on the young table it
/// first saw, and on a new table of a few hundred rows a sequential scan is the cheaper plan,
/// which the record of a group would then keep for as long as the connection lives, scanning
/// every delivery. Without sequential scans to choose, that plan reads the index like the
/// others. The URL's own options come after, so an operator can still turn it back on.
fn pool(
    config: &mut tokio_postgres::Config,
    tls: &tokio_postgres_rustls::MakeRustlsConnect,
    pool_size: usize,
) -> Result<Pool, StoreError> {
    let options = match config.get_options() {
        Some(theirs) => format!("-c enable_seqscan=off {theirs}"),
        None => "-c enable_seqscan=off".to_owned(),
    };
    config
        .options(&options)
        .connect_timeout(POOL_TIMEOUT)
        .keepalives_idle(Duration::from_secs(10))
        .tcp_user_timeout(Duration::from_secs(15))
        .application_name("ivrhook");
    let manager = Manager::from_config(
        config.clone(),
        tls.clone(),
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(pool_size.max(2))
        .wait_timeout(Some(POOL_TIMEOUT))
        .create_timeout(Some(POOL_TIMEOUT))
        .recycle_timeout(Some(POOL_TIMEOUT))
        .runtime(Runtime::Tokio1)
        .build()
        .map_err(|e| StoreError::Task(format!("building the PostgreSQL pool: {e}")))
}

impl PgStore {
    /// Connects, checks or applies migrations, and starts listening for other nodes' work.
    pub async fn open(
        url: &str,
        migrations: Migrations,
        pool_size: usize,
    ) -> Result<Self, StoreError> {
        let Connect { mut config, tls } = Connect::parse(url)?;
        let pool = pool(&mut config, &tls, pool_size)?;
        let location = format!("{:?}", crate::DatabaseUrl::Postgres(url.to_owned()));
        let heard = notify::Heard {
            due: broadcast::channel(1024).0,
            reports: broadcast::channel(16).0,
        };
        let inserts = {
            let statement = std::sync::Arc::new(report_sql::DayStatement::default());
            batch::spawn(pool.clone(), move |pool, jobs| {
                report_batch::write(pool, std::sync::Arc::clone(&statement), jobs)
            })
        };
        let submissions = batch::spawn(pool.clone(), submit_batch::write);
        let floors = std::sync::Arc::new(floors::Floors::default());
        let records = {
            let floors = std::sync::Arc::clone(&floors);
            batch::spawn(pool.clone(), move |pool, jobs| {
                record_batch::write(pool, std::sync::Arc::clone(&floors), jobs)
            })
        };
        let (announcements, queued) = mpsc::unbounded_channel();
        let origin = notify::origin();
        tokio::spawn(notify::announce(pool.clone(), origin.clone(), queued));
        let store = PgStore {
            pool,
            location,
            heard,
            inserts,
            submissions,
            records,
            announcements,
            origin,
            floors,
            listen: std::sync::Mutex::new(Some(Connect { config, tls })),
            stop: CancellationToken::new(),
        };
        store.settle_schema(migrations).await?;
        Ok(store)
    }

    /// Applies pending migrations (and prepares the next days' partitions), or checks that
    /// none is pending.
    async fn settle_schema(&self, migrations: Migrations) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        match migrations {
            Migrations::Apply => {
                schema::migrate(&mut client).await?;
                // The receiver creates a missing day itself; this only spares the first
                // report of a new store the wait.
                if let Err(e) = days::prepare(&mut client, now_ms()).await {
                    tracing::warn!(error = ?e, "could not create the next days' partitions yet");
                }
            }
            Migrations::Require => {
                let found = schema::current(&**client).await?;
                schema::MIGRATIONS.require_current(found)?;
            }
        }
        Ok(())
    }

    /// Applies pending migrations and returns the versions applied (for `ivrhook migrate`).
    pub async fn migrate(url: &str) -> Result<Vec<i64>, StoreError> {
        let Connect { config, tls } = Connect::parse(url)?;
        let (mut client, conn) = config.connect(tls).await?;
        let driver = tokio::spawn(conn);
        let applied = schema::migrate(&mut client).await;
        drop(client);
        let _ = driver.await;
        applied
    }

    /// Subscribes to other nodes' due work, starting the LISTEN connection on first use.
    fn subscribe(&self) -> broadcast::Receiver<String> {
        let receiver = self.heard.due.subscribe();
        self.start_listening();
        receiver
    }

    /// Subscribes to other nodes' new reports, starting the LISTEN connection on first use.
    fn subscribe_reports(&self) -> broadcast::Receiver<()> {
        let receiver = self.heard.reports.subscribe();
        self.start_listening();
        receiver
    }

    fn start_listening(&self) {
        let config = self.listen.lock().ok().and_then(|mut c| c.take());
        if let Some(config) = config {
            tokio::spawn(notify::listen(
                config,
                self.origin.clone(),
                self.heard.clone(),
                self.stop.clone(),
            ));
        }
    }

    /// Tells other nodes that `destination` has new due work ("" for any), after this node's
    /// write has committed.
    fn announce(&self, destination: &str) {
        // Fails only when the announcer has stopped (the store is closing): nothing to wake.
        let _ = self
            .announcements
            .send(notify::Announcement::Due(destination.to_owned()));
    }

    /// Tells other nodes that new reports are stored.
    fn announce_reports(&self) {
        let _ = self.announcements.send(notify::Announcement::Reports);
    }

    async fn client(&self) -> Result<Object, StoreError> {
        Ok(self.pool.get().await?)
    }

    /// Runs a read and maps its rows.
    async fn rows<T>(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        map: impl Fn(&Row) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql).await?;
        client.query(&stmt, params).await?.iter().map(map).collect()
    }

    /// Runs `sql` once for each of `rows`' parameters, in one transaction.
    async fn execute_each(
        &self,
        sql: &str,
        rows: &[Vec<&(dyn ToSql + Sync)>],
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let stmt = tx.prepare_cached(sql).await?;
        for params in rows {
            tx.execute(&stmt, params).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
