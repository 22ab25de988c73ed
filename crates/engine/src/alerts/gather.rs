//! Coalescing: what happened since the last flush, turned into the operator events to send.
//! A failing destination or a high backlog is announced at most once per `repeat_after` while
//! it lasts, its end only after its start was announced; dead deliveries are gathered per
//! destination for `group_within` and sent as messages of at most [`IDS_PER_MESSAGE`]. Pure:
//! time is passed in.

use super::event::{DeadDelivery, Subject};
use std::collections::HashMap;

/// Dead deliveries named in one `delivery.dead` message.
pub const IDS_PER_MESSAGE: usize = 100;
/// Dead deliveries named per destination and window; past it they are counted only, so a
/// mass failure cannot fill memory.
pub const NAMED_PER_WINDOW: usize = 10_000;

/// What happened and is not yet sent.
#[derive(Debug)]
pub(crate) struct Gather {
    repeat_after_ms: i64,
    group_within_ms: i64,
    dead: HashMap<String, DeadWindow>,
    /// Per destination: failing, and a high backlog.
    episodes: HashMap<(String, Condition), Episode>,
    ready: Vec<Subject>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Condition {
    Failing,
    BacklogHigh,
}

#[derive(Debug)]
struct DeadWindow {
    opened_ms: i64,
    named: Vec<DeadDelivery>,
    total: u64,
}

/// A condition that starts and ends.
#[derive(Debug, Default)]
struct Episode {
    /// The latest start, while it lasts.
    active: Option<Subject>,
    announced_ms: Option<i64>,
    /// A start was announced and its end not yet.
    open: bool,
}

impl Gather {
    pub fn new(repeat_after_ms: i64, group_within_ms: i64) -> Self {
        Gather {
            repeat_after_ms,
            group_within_ms,
            dead: HashMap::new(),
            episodes: HashMap::new(),
            ready: Vec::new(),
        }
    }

    /// A delivery to `destination` died.
    pub fn dead(&mut self, destination: &str, delivery: DeadDelivery, now_ms: i64) {
        let window = (self.dead.entry(destination.to_owned())).or_insert_with(|| DeadWindow {
            opened_ms: now_ms,
            named: Vec::new(),
            total: 0,
        });
        window.total += 1;
        if window.named.len() < NAMED_PER_WINDOW {
            window.named.push(delivery);
        }
    }

    /// `condition` holds for `destination` now, as `start` says (a later start replaces the
    /// details a reminder repeats).
    pub fn started(&mut self, condition: Condition, start: Subject, now_ms: i64) {
        let key = (start.destination().to_owned(), condition);
        let episode = self.episodes.entry(key).or_default();
        episode.active = Some(start);
        self.remind(condition, now_ms);
    }

    /// `condition` no longer holds; `end` is sent if its start was.
    pub fn ended(&mut self, condition: Condition, end: Subject) {
        let key = (end.destination().to_owned(), condition);
        let Some(episode) = self.episodes.get_mut(&key) else {
            return;
        };
        episode.active = None;
        if std::mem::take(&mut episode.open) {
            self.ready.push(end);
        }
    }

    /// Announces each lasting condition not announced for `repeat_after`.
    fn remind(&mut self, condition: Condition, now_ms: i64) {
        let repeat = self.repeat_after_ms;
        for ((_, c), episode) in &mut self.episodes {
            let due = episode.announced_ms.is_none_or(|at| now_ms - at >= repeat);
            if *c != condition || !due {
                continue;
            }
            if let Some(start) = &episode.active {
                self.ready.push(start.clone());
                episode.announced_ms = Some(now_ms);
                episode.open = true;
            }
        }
    }

    /// An event to send as it is.
    pub fn ready(&mut self, subject: Subject) {
        self.ready.push(subject);
    }

    /// The events to send now; with `all`, every dead window too, however young (shutdown).
    pub fn take(&mut self, now_ms: i64, all: bool) -> Vec<Subject> {
        self.remind(Condition::Failing, now_ms);
        self.remind(Condition::BacklogHigh, now_ms);
        let within = self.group_within_ms;
        let closed: Vec<String> = (self.dead.iter())
            .filter(|(_, w)| all || now_ms - w.opened_ms >= within)
            .map(|(d, _)| d.clone())
            .collect();
        let mut out = std::mem::take(&mut self.ready);
        for destination in closed {
            if let Some(window) = self.dead.remove(&destination) {
                out.extend(messages(destination, window));
            }
        }
        out
    }
}

fn messages(destination: String, window: DeadWindow) -> Vec<Subject> {
    let parts = window.named.len().div_ceil(IDS_PER_MESSAGE);
    (window.named.chunks(IDS_PER_MESSAGE).enumerate())
        .map(|(i, chunk)| Subject::Dead {
            destination: destination.clone(),
            deliveries: chunk.to_vec(),
            total: window.total,
            part: i + 1,
            parts,
        })
        .collect()
}

#[cfg(test)]
#[path = "gather_tests.rs"]
mod tests;
