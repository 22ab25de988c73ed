//! What both backends' migration runners share: the order of their migrations, the newest
//! version this build knows, which a database at some version needs, and the refusal of a
//! database newer than this build (or, when migrations are not to be applied, older).

use crate::StoreError;

/// A backend's migrations in order; a version is applied once and recorded in its
/// `schema_migrations` table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Versions(pub &'static [(i64, &'static str)]);

impl Versions {
    /// The newest version this build knows.
    pub fn known(self) -> i64 {
        self.0.last().map_or(0, |(v, _)| *v)
    }

    /// The first migration a database at `current` needs, up to `last`; a database newer
    /// than this build is refused, and nothing is applied to it.
    pub fn next(self, current: i64, last: i64) -> Result<Option<(i64, &'static str)>, StoreError> {
        self.not_newer(current)?;
        Ok(self
            .0
            .iter()
            .copied()
            .find(|(v, _)| *v > current && *v <= last))
    }

    /// Refuses a database at `found` newer than this build.
    pub fn not_newer(self, found: i64) -> Result<(), StoreError> {
        let known = self.known();
        match found > known {
            true => Err(StoreError::SchemaTooNew { found, known }),
            false => Ok(()),
        }
    }

    /// Refuses a database at `found` that is not at this build's version.
    pub fn require_current(self, found: i64) -> Result<(), StoreError> {
        self.not_newer(found)?;
        let known = self.known();
        match found < known {
            true => Err(StoreError::SchemaTooOld { found, known }),
            false => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: Versions = Versions(&[(1, "a"), (2, "b"), (3, "c")]);

    #[test]
    fn a_database_gets_the_versions_after_its_own_in_order_up_to_the_last_asked() {
        assert_eq!(LIST.next(0, 3).unwrap(), Some((1, "a")));
        assert_eq!(LIST.next(1, 3).unwrap(), Some((2, "b")));
        assert_eq!(LIST.next(1, 1).unwrap(), None);
        assert_eq!(LIST.next(3, 3).unwrap(), None);
    }

    #[test]
    fn a_database_newer_or_older_than_this_build_is_refused_by_name() {
        assert!(matches!(
            LIST.next(4, 3),
            Err(StoreError::SchemaTooNew { found: 4, known: 3 })
        ));
        assert!(matches!(
            LIST.require_current(2),
            Err(StoreError::SchemaTooOld { found: 2, known: 3 })
        ));
        assert!(LIST.require_current(3).is_ok());
    }
}
