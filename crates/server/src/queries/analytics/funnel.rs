//! The funnel: the most common command sequences, and how many calls reached each step.

use ivrhook_engine::analytics::OTHER;
use serde::Serialize;
use std::collections::BTreeMap;

/// Sequences shown.
const PATHS_SHOWN: usize = 10;

/// A command sequence: how many calls ran exactly it, and how many reached each step.
#[derive(Debug, Serialize, PartialEq)]
pub(crate) struct Path {
    pub calls: i64,
    pub steps: Vec<Step>,
}

/// A step of a sequence: the calls whose own sequence starts with the steps up to here.
#[derive(Debug, Serialize, PartialEq)]
pub(crate) struct Step {
    pub prompt: String,
    pub reached: i64,
}

/// The [`PATHS_SHOWN`] sequences run most (ties by sequence), from counts by sequence as
/// JSON (`(other)`: a sequence past the cap, never shown).
pub(crate) fn funnel(paths: &BTreeMap<&str, i64>) -> Vec<Path> {
    let known: Vec<(Vec<String>, i64)> = (paths.iter())
        .filter(|(p, _)| **p != OTHER)
        .filter_map(|(p, n)| Some((serde_json::from_str::<Vec<String>>(p).ok()?, *n)))
        .collect();
    let mut ranked: Vec<&(Vec<String>, i64)> =
        known.iter().filter(|(p, _)| !p.is_empty()).collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    ranked.truncate(PATHS_SHOWN);
    (ranked.into_iter())
        .map(|(path, calls)| Path {
            calls: *calls,
            steps: (0..path.len())
                .map(|i| Step {
                    prompt: path[i].clone(),
                    reached: (known.iter())
                        .filter(|(q, _)| q.starts_with(&path[..=i]))
                        .map(|(_, n)| n)
                        .sum(),
                })
                .collect(),
        })
        .collect()
}
