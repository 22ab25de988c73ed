//! The delivery settings every destination has, in `[[apps]]` (with `callback_url`) and in
//! `[[destinations]]` alike: `timeout`, `max_in_flight`, `retry_schedule`, `ordered`,
//! `allow_private`.

use super::{invalid, parse_duration, ConfigError};
use ivrhook_engine::{
    kinds::Reach,
    schedule::{RetrySchedule, JITTER},
    DestinationSettings,
};

/// The keys as the file gives them.
#[derive(Debug, Default)]
pub(super) struct Common {
    pub timeout: Option<String>,
    pub max_in_flight: Option<u32>,
    pub retry_schedule: Option<Vec<String>>,
    pub ordered: Option<bool>,
    pub allow_private: Option<bool>,
}

impl Common {
    /// Which of them are set, by key name.
    pub fn set(&self) -> [(&'static str, bool); 5] {
        [
            ("timeout", self.timeout.is_some()),
            ("max_in_flight", self.max_in_flight.is_some()),
            ("retry_schedule", self.retry_schedule.is_some()),
            ("ordered", self.ordered.is_some()),
            ("allow_private", self.allow_private.is_some()),
        ]
    }

    /// Applies what is set to `d`; `prefix` names the entry (`apps[0]`, `destinations[1]`).
    pub fn apply(self, d: &mut DestinationSettings, prefix: &str) -> Result<(), ConfigError> {
        let key = |name: &str| format!("{prefix}.{name}");
        if let Some(t) = self.timeout {
            d.timeout = parse_duration(&t).map_err(|e| invalid(key("timeout"), e))?;
            if d.timeout.is_zero() {
                return Err(invalid(key("timeout"), "must be greater than 0"));
            }
        }
        if let Some(n) = self.max_in_flight {
            if n == 0 {
                return Err(invalid(key("max_in_flight"), "must be at least 1"));
            }
            d.max_in_flight = n;
        }
        if let Some(list) = self.retry_schedule {
            let delays = list
                .iter()
                .enumerate()
                .map(|(j, t)| {
                    parse_duration(t)
                        .map_err(|e| invalid(format!("{prefix}.retry_schedule[{j}]"), e))
                })
                .collect::<Result<Vec<_>, _>>()?;
            d.schedule = RetrySchedule::new(delays, JITTER)
                .map_err(|e| invalid(key("retry_schedule"), e))?;
        }
        if let Some(ordered) = self.ordered {
            d.ordered = ordered;
        }
        if self.allow_private == Some(true) {
            d.reach = Reach::Anywhere;
        }
        Ok(())
    }
}

/// Where a destination without `allow_private` may connect: public addresses, and loopback
/// too while the server itself listens on loopback only (development).
pub(super) fn settle_reach(d: &mut DestinationSettings, listen: std::net::SocketAddr) {
    d.reach = reach(d.reach == Reach::Anywhere, listen);
}

/// Where an HTTP request may go: anywhere with `allow_private`, otherwise public addresses
/// (and loopback while the server listens on loopback only).
pub(super) fn reach(allow_private: bool, listen: std::net::SocketAddr) -> Reach {
    match (allow_private, listen.ip().is_loopback()) {
        (true, _) => Reach::Anywhere,
        (false, true) => Reach::PublicAndLoopback,
        (false, false) => Reach::Public,
    }
}
