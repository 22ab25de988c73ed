//! Signed requests seen, by app and `webhook-id`, until their signature would be stale
//! anyway: a replay of a seen id is refused. Kept in memory, per node.

use std::{collections::HashMap, sync::Mutex};

#[derive(Debug, Default)]
pub(crate) struct Replays {
    seen: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    /// (app, webhook-id) → when it may be forgotten, in ms.
    until: HashMap<(String, String), i64>,
    /// The size at which the forgettable are dropped next: twice what was left last time, so
    /// the sweeps cost a constant per id.
    sweep_at: usize,
}

impl Replays {
    /// `true` the first time `id` is seen for `app` (it is then kept until `keep_until_ms`).
    pub(crate) fn first_sight(&self, app: &str, id: &str, keep_until_ms: i64, now_ms: i64) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.until.len() >= seen.sweep_at {
            seen.until.retain(|_, until| *until > now_ms);
            seen.sweep_at = (2 * seen.until.len()).max(1024);
        }
        let key = (app.to_owned(), id.to_owned());
        match seen.until.get(&key) {
            Some(until) if *until > now_ms => false,
            _ => {
                seen.until.insert(key, keep_until_ms);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_taken_once_per_app_until_it_is_forgotten() {
        let r = Replays::default();
        assert!(r.first_sight("a", "msg_1", 100, 0));
        assert!(!r.first_sight("a", "msg_1", 100, 50), "a replay");
        assert!(r.first_sight("b", "msg_1", 100, 50), "another app's id");
        assert!(
            r.first_sight("a", "msg_1", 300, 150),
            "forgotten: stale by now anyway"
        );
        for n in 0..5000 {
            r.first_sight("a", &format!("m{n}"), 10, n);
        }
        assert!(
            r.seen.lock().unwrap().until.len() < 2100,
            "expired ids are dropped"
        );
    }
}
