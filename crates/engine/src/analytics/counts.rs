//! Calls turned into counts, once the names they carry are admitted (`names`). A flush
//! counts thousands of calls into a few dozen keys, so each call's names are looked up once
//! and counted under small numbers; the store's keys are built once per distinct key.

use super::{
    call::{bucket_ms, Call},
    names::Names,
    Caps,
};
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use ivrhook_store::{
    analytics::{Key, Measure, HOUR},
    Store, StoreError,
};

/// Counts not yet written, by key.
pub(super) type Counts = std::collections::HashMap<Key, i64>;

/// The scope of the key values entered at `prompt`.
pub(super) fn keys_scope(prompt: &str) -> String {
    format!("keys:{prompt}")
}

/// The sequence of prompts, as the store labels it.
fn path_label(prompts: &[&str]) -> String {
    serde_json::to_string(prompts).unwrap_or_default()
}

/// Admits the prompts, sequences and key values of `calls`, in that order (a sequence and a
/// key scope are named by counted prompts).
pub(super) async fn admit(
    names: &mut Names,
    store: &dyn Store,
    calls: &[Call],
    caps: Caps,
) -> Result<(), StoreError> {
    let mut by_app: HashMap<&str, Vec<&Call>> = HashMap::new();
    for c in calls {
        by_app.entry(&c.app_id).or_default().push(c);
    }
    for (app, calls) in by_app {
        let prompts: HashSet<&str> = (calls.iter())
            .flat_map(|c| c.steps.iter().map(|s| s.prompt.as_str()))
            .collect();
        let prompts: Vec<&str> = prompts.into_iter().collect();
        names
            .admit(store, (app, "prompt", caps.prompts), &prompts)
            .await?;
        let mut paths: HashSet<Vec<&str>> = HashSet::new();
        let mut keys: HashMap<&str, HashSet<&str>> = HashMap::new();
        for c in &calls {
            let counted: Vec<&str> = (c.steps.iter())
                .map(|s| names.as_counted(app, "prompt", &s.prompt))
                .collect();
            for (s, prompt) in c.steps.iter().zip(&counted) {
                if let Some(Some(k)) = &s.keys {
                    keys.entry(prompt).or_default().insert(k);
                }
            }
            paths.insert(counted);
        }
        let labels: Vec<String> = paths.iter().map(|p| path_label(p)).collect();
        let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
        names
            .admit(store, (app, "path", caps.paths), &labels)
            .await?;
        for (prompt, entered) in keys {
            let entered: Vec<&str> = entered.into_iter().collect();
            let scope = keys_scope(prompt);
            names
                .admit(store, (app, &scope, caps.keys), &entered)
                .await?;
        }
    }
    Ok(())
}

/// A label as a flush counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Label {
    None,
    Status(bool),
    Bucket(i64),
    /// An interned name (keys).
    Name(u32),
    /// An interned sequence.
    Path(u32),
}

/// A key as a flush counts it: the app, prompt and names interned.
type Small = (u32, i64, i64, u32, Measure, Label);

/// One flush's counts, under small numbers.
#[derive(Default)]
struct Interned<'a> {
    ids: HashMap<&'a str, u32>,
    names: Vec<&'a str>,
    path_ids: HashMap<Vec<u32>, u32>,
    paths: Vec<Vec<u32>>,
    counts: HashMap<Small, i64>,
}

impl<'a> Interned<'a> {
    fn id(&mut self, name: &'a str) -> u32 {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let id = self.names.len() as u32;
        self.ids.insert(name, id);
        self.names.push(name);
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

    fn add(&mut self, call: &'a Call, names: &'a Names) {
        let app = call.app_id.as_str();
        let app_id = self.id(app);
        let at = call.hour_min;
        let count = |me: &mut Self, position, prompt, measure, label| {
            *me.counts
                .entry((app_id, at, position, prompt, measure, label))
                .or_default() += 1;
        };
        count(self, 0, 0, Measure::Calls, Label::Status(call.completed));
        if let Some(ms) = call.length_ms {
            count(self, 0, 0, Measure::Length, Label::Bucket(bucket_ms(ms)));
        }
        let mut sequence = Vec::with_capacity(call.steps.len());
        for (i, step) in call.steps.iter().enumerate() {
            let counted = names.as_counted(app, "prompt", &step.prompt);
            let (position, prompt) = (i as i64 + 1, self.id(counted));
            sequence.push(prompt);
            count(self, position, prompt, Measure::Played, Label::None);
            if step.to_end {
                count(self, position, prompt, Measure::ToEnd, Label::None);
            }
            if step.hung_up {
                count(self, position, prompt, Measure::HungUp, Label::None);
            }
            if let Some(ms) = step.listened_ms {
                count(
                    self,
                    position,
                    prompt,
                    Measure::Listened,
                    Label::Bucket(bucket_ms(ms)),
                );
            }
            match &step.keys {
                Some(Some(k)) => {
                    let key = self.id(names.as_counted_key(app, counted, k));
                    count(self, position, prompt, Measure::Keys, Label::Name(key));
                }
                Some(None) => count(self, position, prompt, Measure::NoKey, Label::None),
                None => {}
            }
        }
        let path = self.path(sequence);
        count(self, 0, 0, Measure::Path, Label::Path(path));
    }

    /// Adds what was counted to `counts`, under the store's keys; a sequence past its cap
    /// as `(other)`.
    fn into_counts(self, counts: &mut Counts, names: &Names) {
        let paths: Vec<String> = (self.paths.iter())
            .map(|p| {
                path_label(
                    &p.iter()
                        .map(|id| self.names[*id as usize])
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        for ((app, at_min, position, prompt, measure, label), n) in self.counts {
            let app = self.names[app as usize];
            let label = match label {
                Label::None => String::new(),
                Label::Status(completed) => if completed { "0" } else { "1" }.to_owned(),
                Label::Bucket(ms) => ms.to_string(),
                Label::Name(id) => self.names[id as usize].to_owned(),
                Label::Path(id) => names
                    .as_counted(app, "path", &paths[id as usize])
                    .to_owned(),
            };
            let prompt = match position {
                0 => String::new(),
                _ => self.names[prompt as usize].to_owned(),
            };
            let key = Key {
                app_id: app.to_owned(),
                at_min,
                span_min: HOUR,
                position,
                prompt,
                measure,
                label,
            };
            *counts.entry(key).or_default() += n;
        }
    }
}

/// Adds the counts of `calls` to `counts`, every name as counted.
pub(super) fn add(counts: &mut Counts, names: &Names, calls: &[Call]) {
    let mut interned = Interned::default();
    for call in calls {
        interned.add(call, names);
    }
    interned.into_counts(counts, names);
}
