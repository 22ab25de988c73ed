//! `<database>.lock`, held exclusively while a process uses the file, so a second ivrhook on
//! the same file stops at start. A clean close removes it; one left behind only means the
//! last process did not stop cleanly, and the next start takes it over.

use crate::StoreError;
use std::{
    fs::File,
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
};

#[derive(Debug)]
pub(crate) struct LockFile {
    file: File,
    path: PathBuf,
}

impl LockFile {
    pub fn take(db: &Path) -> Result<LockFile, StoreError> {
        let mut name = db.as_os_str().to_owned();
        name.push(".lock");
        let path = PathBuf::from(name);
        let failed = |reason: String| StoreError::Lock {
            path: path.clone(),
            reason,
        };
        // A closing process removes the file while it still holds the lock: a process that
        // opened the old file just before may lock it after, when it is no longer at the path.
        // Then the lock is worthless, and it tries again on the file that is.
        for _ in 0..10 {
            let file = File::options()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(|e| failed(e.to_string()))?;
            file.try_lock()
                .map_err(|_| failed("another ivrhook process is using this database".into()))?;
            if is_at(&file, &path) {
                return Ok(LockFile { file, path });
            }
        }
        Err(failed("the lock file keeps being replaced".into()))
    }

    /// Removes the file, then unlocks it.
    pub fn release(self) {
        if let Err(e) = std::fs::remove_file(&self.path) {
            tracing::warn!(path = %self.path.display(), error = %e, "could not remove the lock file");
        }
        drop(self.file);
    }
}

fn is_at(file: &File, path: &Path) -> bool {
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_taker_is_refused_and_a_release_removes_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("x.db");
        let first = LockFile::take(&db).unwrap();
        let second = LockFile::take(&db).unwrap_err().to_string();
        assert!(second.contains("another ivrhook process"), "{second}");
        first.release();
        assert!(!dir.path().join("x.db.lock").exists());
        LockFile::take(&db).unwrap().release();
    }

    #[test]
    fn a_lock_on_a_file_no_longer_at_the_path_is_not_taken() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db.lock");
        let old = File::create(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(!is_at(&old, &path));
        let now = File::create(&path).unwrap();
        assert!(is_at(&now, &path));
    }
}
