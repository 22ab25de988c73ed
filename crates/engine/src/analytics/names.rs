//! Which names an app's counts may carry: the store admits each scope's names up to its cap,
//! the same for every node; this keeps what it answered, so a name is asked about once.

use foldhash::{HashMap, HashSet};
use ivrhook_store::{Store, StoreError};

/// What a name past its scope's cap is counted as.
pub const OTHER: &str = "(other)";

/// Names the store has admitted, by app and scope.
#[derive(Debug, Default)]
pub(super) struct Names {
    held: HashMap<String, HashMap<String, HashSet<String>>>,
}

impl Names {
    /// Asks the store to admit the names of `wanted` not yet held, in that order, unless the
    /// scope is full.
    pub async fn admit(
        &mut self,
        store: &dyn Store,
        (app, scope, cap): (&str, &str, u32),
        wanted: &[&str],
    ) -> Result<(), StoreError> {
        let scopes = self.held.entry(app.to_owned()).or_default();
        let held = scopes.entry(scope.to_owned()).or_default();
        if held.len() >= cap as usize {
            return Ok(());
        }
        let mut seen = HashSet::default();
        let asked: Vec<String> = (wanted.iter())
            .filter(|n| !held.contains(**n) && seen.insert(**n))
            .map(|n| (*n).to_owned())
            .collect();
        if asked.is_empty() {
            return Ok(());
        }
        let admitted = store.admit_names(app, scope, &asked, cap).await?;
        *held = admitted.into_iter().collect();
        Ok(())
    }

    /// `name` if the scope holds it, else [`OTHER`].
    pub fn as_counted<'a>(&self, app: &str, scope: &str, name: &'a str) -> &'a str {
        let held = self.held.get(app).and_then(|s| s.get(scope));
        match held.is_some_and(|h| h.contains(name)) {
            true => name,
            false => OTHER,
        }
    }

    /// `keys` if the key values of `prompt` hold them, else [`OTHER`].
    pub fn as_counted_key<'a>(&self, app: &str, prompt: &str, keys: &'a str) -> &'a str {
        self.as_counted(app, &super::counts::keys_scope(prompt), keys)
    }
}
