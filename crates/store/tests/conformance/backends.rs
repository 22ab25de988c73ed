//! The two backends under test, each on fresh storage.

use ivrhook_store::{
    postgres::{Migrations, PgStore},
    sqlite::SqliteStore,
    Store,
};

pub struct Backend {
    pub store: Box<dyn Store>,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    Database { admin: String, name: String },
}

/// The server the PostgreSQL tests use; its database is only used to create and drop others.
fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// `url` with its database name replaced.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, ""), |(b, q)| (b, q));
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

async fn admin(url: &str) -> tokio_postgres::Client {
    match tokio_postgres::connect(url, tokio_postgres::NoTls).await {
        Ok((client, conn)) => {
            tokio::spawn(conn);
            client
        }
        Err(e) => panic!(
            "PostgreSQL at {url} is unreachable ({e}). The PostgreSQL tests need a server: start \
             the machine's with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) \
             main start`, or point TEST_DATABASE_URL at one (a user that may create databases)."
        ),
    }
}

impl Backend {
    pub fn sqlite() -> Backend {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(&dir.path().join("conformance.db"), None).expect("open");
        Backend {
            store: Box::new(store),
            cleanup: Cleanup::Dir(dir),
        }
    }

    /// A database named after the case, so a case that failed leaves its data for a look
    /// and the next run replaces it.
    pub async fn postgres(case: &str) -> Backend {
        let admin_url = admin_url();
        let name = format!("ivrhook_conformance_{case}");
        let client = admin(&admin_url).await;
        for sql in [
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            format!("CREATE DATABASE {name}"),
        ] {
            client
                .batch_execute(&sql)
                .await
                .expect("create the test database");
        }
        let url = with_database(&admin_url, &name);
        let store = PgStore::open(&url, Migrations::Apply, 8)
            .await
            .expect("open the PostgreSQL store");
        Backend {
            store: Box::new(store),
            cleanup: Cleanup::Database {
                admin: admin_url,
                name,
            },
        }
    }

    /// Closes the store and drops its database (reached only when the case passed).
    pub async fn finish(self) {
        self.store.close().await;
        if let Cleanup::Database { admin: url, name } = &self.cleanup {
            admin(url)
                .await
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await
                .expect("drop the test database");
        }
    }
}

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
