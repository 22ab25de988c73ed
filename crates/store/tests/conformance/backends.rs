//! The two backends under test, each on fresh storage.

use ivrhook_store::{
    postgres::{scratch::ScratchDatabase, Migrations, PgStore},
    sqlite::SqliteStore,
    Store,
};

pub struct Backend {
    pub store: Box<dyn Store>,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    Database(ScratchDatabase),
}

/// The server the PostgreSQL tests use; its database is only used to create and drop others.
pub fn server_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A scratch database, or a failure that says how to get a server.
pub async fn scratch(name: &str) -> ScratchDatabase {
    let url = server_url();
    ScratchDatabase::create(&url, name)
        .await
        .unwrap_or_else(|e| {
            panic!(
            "PostgreSQL at {url} is unreachable or refused ({e:?}). The PostgreSQL tests need a \
             server: start the machine's with `pg_ctlcluster --skip-systemctl-redirect \
             $(ls /etc/postgresql) main start`, or point TEST_DATABASE_URL at one (a user that \
             may create databases)."
        )
        })
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
        let db = scratch(&format!("ivrhook_conformance_{case}")).await;
        let store = PgStore::open(&db.url, Migrations::Apply, 8)
            .await
            .expect("open the PostgreSQL store");
        Backend {
            store: Box::new(store),
            cleanup: Cleanup::Database(db),
        }
    }

    /// Closes the store and drops its database (reached only when the case passed).
    pub async fn finish(self) {
        self.store.close().await;
        if let Cleanup::Database(db) = self.cleanup {
            db.drop_database().await.expect("drop the test database");
        }
    }
}
