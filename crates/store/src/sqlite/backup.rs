//! `ivrhook backup`: a consistent copy of a SQLite store, taken while it serves. SQLite's online
//! backup API copies every page in one step, inside one read transaction: in WAL mode that
//! reads a snapshot (every transaction committed when it began, so every report acknowledged
//! by then) without blocking the server's writes. The copy is written beside the target,
//! synced, and renamed into place, so a target that exists is whole.

use crate::StoreError;
use rusqlite::{backup::Backup, Connection, OpenFlags};
use std::path::Path;

/// What the copy holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    /// Database pages copied.
    pub pages: i64,
    /// Reports in the copy.
    pub reports: i64,
}

/// Copies the SQLite file at `source` to `target` while it serves (SQLite's online backup, one
/// snapshot); the copy is written beside `target`, synced and renamed into place.
pub fn backup_file(source: &Path, target: &Path) -> Result<Copied, StoreError> {
    let failed = |reason: String| StoreError::Backup {
        path: target.to_owned(),
        reason,
    };
    if target.exists() {
        return Err(failed("exists; the backup never overwrites a file".into()));
    }
    if !source.exists() {
        return Err(StoreError::Backup {
            path: source.to_owned(),
            reason: "there is no database file here".into(),
        });
    }
    let from = Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    from.busy_timeout(std::time::Duration::from_secs(30))?;
    let partial = target.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    let mut to = Connection::open(&partial)?;
    {
        let copy = Backup::new(&from, &mut to)?;
        // One step of every page: one read transaction, so one snapshot.
        copy.step(-1)?;
    }
    to.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))?;
    let pages: i64 = to.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    let reports: i64 = to.query_row("SELECT COUNT(*) FROM reports", [], |r| r.get(0))?;
    drop(to);
    std::fs::File::open(&partial)
        .and_then(|f| f.sync_all())
        .map_err(|e| failed(e.to_string()))?;
    std::fs::rename(&partial, target).map_err(|e| failed(e.to_string()))?;
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(Copied { pages, reports })
}
