//! Calls turned into counts. A flush counts thousands of calls into a few dozen keys, so each
//! call is read once, its names interned and its counts kept under small numbers; the names
//! are then admitted (`names`) once per distinct name, and the store's keys built once per
//! distinct key.

use super::{
    call::{bucket_ms, Call},
    names::Names,
    Caps,
};
use foldhash::HashMap;
use ivrhook_store::{
    analytics::{Key, Measure, HOUR},
    Store, StoreError,
};
use std::collections::{BTreeMap, BTreeSet};

/// Counts not yet written, by key.
pub(super) type Counts = std::collections::HashMap<Key, i64>;

/// The scope of the key values entered at `prompt`.
pub(super) fn keys_scope(prompt: &str) -> String {
    format!("keys:{prompt}")
}

/// A label as a flush counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Label {
    None,
    Status(bool),
    Bucket(i64),
    /// Interned keys entered.
    Keys(u32),
    /// An interned sequence of prompts.
    Path(u32),
}

/// A key as a flush counts it: app, hour, position, prompt (interned), measure, label.
type Small = (u32, i64, i64, u32, Measure, Label);

/// One flush's calls, counted under small numbers, with the names as received.
#[derive(Debug, Default)]
pub(super) struct Interned {
    ids: HashMap<String, u32>,
    names: Vec<String>,
    path_ids: HashMap<Vec<u32>, u32>,
    paths: Vec<Vec<u32>>,
    counts: HashMap<Small, i64>,
}

impl Interned {
    /// Counts `calls`.
    pub fn of(calls: &[Call]) -> Interned {
        let mut interned = Interned::default();
        for call in calls {
            interned.add(call);
        }
        interned
    }

    fn id(&mut self, name: &str) -> u32 {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let id = self.names.len() as u32;
        self.ids.insert(name.to_owned(), id);
        self.names.push(name.to_owned());
        id
    }

    fn path(&mut self, prompts: Vec<u32>) -> u32 {
        if let Some(id) = self.path_ids.get(&prompts) {
            return *id;
        }
        let id = self.paths.len() as u32;
        self.paths.push(prompts.clone());
        self.path_ids.insert(prompts, id);
        id
    }

    fn add(&mut self, call: &Call) {
        let app = self.id(&call.app_id);
        let at = call.hour_min;
        let count = |me: &mut Self, position, prompt, measure, label| {
            let key = (app, at, position, prompt, measure, label);
            *me.counts.entry(key).or_default() += 1;
        };
        count(self, 0, 0, Measure::Calls, Label::Status(call.completed));
        if let Some(ms) = call.length_ms {
            count(self, 0, 0, Measure::Length, Label::Bucket(bucket_ms(ms)));
        }
        let mut sequence = Vec::with_capacity(call.steps.len());
        for (i, step) in call.steps.iter().enumerate() {
            let (position, prompt) = (i as i64 + 1, self.id(&step.prompt));
            sequence.push(prompt);
            count(self, position, prompt, Measure::Played, Label::None);
            if step.to_end {
                count(self, position, prompt, Measure::ToEnd, Label::None);
            }
            if step.hung_up {
                count(self, position, prompt, Measure::HungUp, Label::None);
            }
            if let Some(ms) = step.listened_ms {
                let label = Label::Bucket(bucket_ms(ms));
                count(self, position, prompt, Measure::Listened, label);
            }
            match &step.keys {
                Some(Some(k)) => {
                    let keys = Label::Keys(self.id(k));
                    count(self, position, prompt, Measure::Keys, keys);
                }
                Some(None) => count(self, position, prompt, Measure::NoKey, Label::None),
                None => {}
            }
        }
        let path = self.path(sequence);
        count(self, 0, 0, Measure::Path, Label::Path(path));
    }

    fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }

    /// A sequence of prompts as the store labels it, each prompt as counted.
    fn path_label(&self, app: &str, names: &Names, id: u32) -> String {
        let prompts: Vec<&str> = (self.paths[id as usize].iter())
            .map(|p| names.as_counted(app, "prompt", self.name(*p)))
            .collect();
        serde_json::to_string(&prompts).unwrap_or_default()
    }

    /// Admits the prompts, then the sequences and key values (named by counted prompts).
    pub async fn admit(
        &self,
        names: &mut Names,
        store: &dyn Store,
        caps: Caps,
    ) -> Result<(), StoreError> {
        // Names go in the order they were first seen (their ids), so the first ones get in.
        let mut prompts: HashMap<u32, BTreeSet<u32>> = HashMap::default();
        for &(app, _, position, prompt, _, _) in self.counts.keys() {
            if position > 0 {
                prompts.entry(app).or_default().insert(prompt);
            }
        }
        for (app, ids) in &prompts {
            let wanted: Vec<&str> = ids.iter().map(|id| self.name(*id)).collect();
            let scope = (self.name(*app), "prompt", caps.prompts);
            names.admit(store, scope, &wanted).await?;
        }
        let mut later: HashMap<(u32, String), BTreeMap<u32, String>> = HashMap::default();
        for &(app, _, _, prompt, measure, label) in self.counts.keys() {
            let name = self.name(app);
            let (scope, id, value) = match (measure, label) {
                (Measure::Path, Label::Path(id)) => {
                    ("path".to_owned(), id, self.path_label(name, names, id))
                }
                (Measure::Keys, Label::Keys(id)) => {
                    let counted = names.as_counted(name, "prompt", self.name(prompt));
                    (keys_scope(counted), id, self.name(id).to_owned())
                }
                _ => continue,
            };
            later.entry((app, scope)).or_default().insert(id, value);
        }
        for ((app, scope), values) in &later {
            let cap = if scope == "path" {
                caps.paths
            } else {
                caps.keys
            };
            let wanted: Vec<&str> = values.values().map(String::as_str).collect();
            names
                .admit(store, (self.name(*app), scope, cap), &wanted)
                .await?;
        }
        Ok(())
    }

    /// Adds what was counted to `counts`, under the store's keys, every name as counted.
    pub fn into_counts(self, counts: &mut Counts, names: &Names) {
        for (&(app, at_min, position, prompt, measure, label), n) in &self.counts {
            let app = self.name(app);
            let prompt = match position {
                0 => "",
                _ => names.as_counted(app, "prompt", self.name(prompt)),
            };
            let label = match label {
                Label::None => String::new(),
                Label::Status(completed) => if completed { "0" } else { "1" }.to_owned(),
                Label::Bucket(ms) => ms.to_string(),
                Label::Keys(id) => names.as_counted_key(app, prompt, self.name(id)).to_owned(),
                Label::Path(id) => {
                    let path = self.path_label(app, names, id);
                    names.as_counted(app, "path", &path).to_owned()
                }
            };
            let key = Key {
                app_id: app.to_owned(),
                at_min,
                span_min: HOUR,
                position,
                prompt: prompt.to_owned(),
                measure,
                label,
            };
            *counts.entry(key).or_default() += n;
        }
    }
}
