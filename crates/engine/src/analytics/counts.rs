//! Calls turned into counts, once the names they carry are admitted (`names`).

use super::{
    call::{bucket_ms, Call},
    names::Names,
    Caps,
};
use ivrhook_store::{
    analytics::{Key, Measure, HOUR},
    Store, StoreError,
};
use std::collections::HashMap;

/// Counts not yet written, by key.
pub(super) type Counts = HashMap<Key, i64>;

/// The scope of the key values entered at `prompt`.
fn keys_scope(prompt: &str) -> String {
    format!("keys:{prompt}")
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
        let prompts: Vec<&str> = (calls.iter())
            .flat_map(|c| c.steps.iter().map(|s| s.prompt.as_str()))
            .collect();
        names
            .admit(store, (app, "prompt", caps.prompts), &prompts)
            .await?;
        let paths: Vec<String> = calls.iter().map(|c| path(names, c)).collect();
        let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
        names
            .admit(store, (app, "path", caps.paths), &paths)
            .await?;
        let mut keys: HashMap<String, Vec<&str>> = HashMap::new();
        for s in calls.iter().flat_map(|c| &c.steps) {
            if let Some(Some(k)) = &s.keys {
                let prompt = names.as_counted(app, "prompt", &s.prompt);
                keys.entry(keys_scope(prompt)).or_default().push(k);
            }
        }
        for (scope, entered) in keys {
            names
                .admit(store, (app, &scope, caps.keys), &entered)
                .await?;
        }
    }
    Ok(())
}

/// The sequence of counted prompts `call` ran, as JSON.
fn path(names: &Names, call: &Call) -> String {
    let prompts: Vec<&str> = (call.steps.iter())
        .map(|s| names.as_counted(&call.app_id, "prompt", &s.prompt))
        .collect();
    serde_json::to_string(&prompts).unwrap_or_default()
}

/// Adds `call`'s counts to `counts`, every name as counted.
pub(super) fn add(counts: &mut Counts, names: &Names, call: &Call) {
    let app = call.app_id.as_str();
    let mut add = |position: i64, prompt: &str, measure: Measure, label: String| {
        let key = Key {
            app_id: app.to_owned(),
            at_min: call.hour_min,
            span_min: HOUR,
            position,
            prompt: prompt.to_owned(),
            measure,
            label,
        };
        *counts.entry(key).or_default() += 1;
    };
    let status = if call.completed { "0" } else { "1" };
    add(0, "", Measure::Calls, status.to_owned());
    if let Some(ms) = call.length_ms {
        add(0, "", Measure::Length, bucket_ms(ms).to_string());
    }
    let path = path(names, call);
    add(
        0,
        "",
        Measure::Path,
        names.as_counted(app, "path", &path).to_owned(),
    );
    for (i, step) in call.steps.iter().enumerate() {
        let (position, prompt) = (i as i64 + 1, names.as_counted(app, "prompt", &step.prompt));
        add(position, prompt, Measure::Played, String::new());
        if step.to_end {
            add(position, prompt, Measure::ToEnd, String::new());
        }
        if step.hung_up {
            add(position, prompt, Measure::HungUp, String::new());
        }
        if let Some(ms) = step.listened_ms {
            add(
                position,
                prompt,
                Measure::Listened,
                bucket_ms(ms).to_string(),
            );
        }
        match &step.keys {
            Some(Some(k)) => {
                let key = names.as_counted(app, &keys_scope(prompt), k);
                add(position, prompt, Measure::Keys, key.to_owned());
            }
            Some(None) => add(position, prompt, Measure::NoKey, String::new()),
            None => {}
        }
    }
}
