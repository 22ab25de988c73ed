//! Statements run again when a row they meant to lock or change had moved to another
//! partition. A delivery moves when it finishes (to its day's partition) and when a dead
//! one is retried (back to `deliveries_pending`); a statement that finds the row it read
//! moved by a transaction that committed meanwhile fails with a serialization failure
//! instead of following it (PostgreSQL's rule for moved rows), and changed nothing.

use crate::StoreError;
use std::future::Future;
use tokio_postgres::error::SqlState;

/// Tries in all.
const TRIES: usize = 3;

/// Runs `statement` again, up to `TRIES` in all, while it fails on a moved row.
pub(crate) async fn again_if_moved<T, F, Fut>(mut statement: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    let mut tries = 1;
    loop {
        match statement().await {
            Err(e) if tries < TRIES && moved(&e) => tries += 1,
            other => return other,
        }
    }
}

fn moved(e: &StoreError) -> bool {
    matches!(e, StoreError::Postgres(e) if e.code() == Some(&SqlState::T_R_SERIALIZATION_FAILURE))
}
