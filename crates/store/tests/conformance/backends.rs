//! The two backends under test, each on fresh storage.

use ivrhook_store::{
    postgres::{scratch::ScratchDatabase, PgStore},
    sqlite::SqliteStore,
    Migrations, Store,
};

pub struct Backend {
    pub store: Box<dyn Store>,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    Database(ScratchDatabase),
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
        let db = ScratchDatabase::for_tests(&format!("ivrhook_conformance_{case}"))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
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
