//! A uniquely named, empty database on a PostgreSQL server, dropped when done: what the
//! tests and `ivrhook bench --database postgres://…` run on, so nothing touches real data.

use super::Connect;
use crate::StoreError;
use tokio_postgres::Client;

/// A database made for one test or bench run, dropped with it.
#[derive(Debug)]
pub struct ScratchDatabase {
    /// The server's URL as given (its database is used only to create and drop others).
    server: String,
    name: String,
    /// The scratch database's URL.
    pub url: String,
}

/// The PostgreSQL server the test suites use unless `TEST_DATABASE_URL` names another.
pub const TEST_SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// `TEST_DATABASE_URL`, or [`TEST_SERVER`].
pub fn test_server_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| TEST_SERVER.to_owned())
}

/// `url` with its database name replaced.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let hosts_at = base.find("://").map_or(0, |i| i + 3);
    let base = match base[hosts_at..].find('/') {
        Some(slash) => &base[..hosts_at + slash],
        None => base,
    };
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    format!("{base}/{name}{query}")
}

async fn connect(url: &str) -> Result<Client, StoreError> {
    let Connect { config, tls } = Connect::parse(url)?;
    let (client, conn) = config.connect(tls).await?;
    tokio::spawn(conn);
    Ok(client)
}

/// Brings the planner's statistics of the database at `url` up to date, as autovacuum does
/// some time after a bulk load: a bench that fills a store in minutes measures it as it runs
/// once they are taken.
pub async fn analyze(url: &str) -> Result<(), StoreError> {
    connect(url).await?.batch_execute("ANALYZE").await?;
    Ok(())
}

impl ScratchDatabase {
    /// Creates `name` (letters, digits and `_` only) on the server `server_url` points at,
    /// replacing a leftover of the same name.
    pub async fn create(server_url: &str, name: &str) -> Result<ScratchDatabase, StoreError> {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(StoreError::BadUrl {
                url: name.to_owned(),
                reason: "is not a scratch database name (letters, digits, _)".into(),
            });
        }
        let client = connect(server_url).await?;
        // Two statements: CREATE/DROP DATABASE cannot run inside one implicit transaction.
        client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await?;
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await?;
        Ok(ScratchDatabase {
            server: server_url.to_owned(),
            name: name.to_owned(),
            url: with_database(server_url, name),
        })
    }

    /// A scratch database on the server the test suites use: `TEST_DATABASE_URL`, default
    /// [`TEST_SERVER`]. The error says how to get a server, for a test to fail with.
    pub async fn for_tests(name: &str) -> Result<ScratchDatabase, String> {
        let server = test_server_url();
        ScratchDatabase::create(&server, name).await.map_err(|e| {
            format!(
                "PostgreSQL at {server} is unreachable or refused ({e:?}). The PostgreSQL tests \
                 need a server: start the machine's with `pg_ctlcluster \
                 --skip-systemctl-redirect $(ls /etc/postgresql) main start`, or point \
                 TEST_DATABASE_URL at one (a user that may create databases)."
            )
        })
    }

    /// Drops the database, closing any connection still open to it.
    pub async fn drop_database(self) -> Result<(), StoreError> {
        connect(&self.server)
            .await?
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_names_are_replaced_in_any_url_shape() {
        assert_eq!(
            with_database("postgres://u@h:5432", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h/postgres", "x"),
            "postgres://u@h/x"
        );
        assert_eq!(
            with_database("postgresql://u:p@h/db?sslmode=disable", "x"),
            "postgresql://u:p@h/x?sslmode=disable"
        );
    }
}
