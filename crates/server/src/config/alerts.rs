//! `[alerts]`: which destinations receive operator events, and how they are coalesced.

use super::{invalid, lenient, parse_duration, ConfigError};
use ivrhook_engine::{alerts::AlertSettings, DestinationSettings};
use serde::Deserialize;
use std::time::Duration;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileAlerts {
    #[serde(deserialize_with = "lenient::list")]
    pub destinations: Vec<String>,
    pub repeat_after: String,
    pub group_within: String,
}

impl FileAlerts {
    pub(super) fn settings(&self) -> Result<AlertSettings, ConfigError> {
        Ok(AlertSettings {
            repeat_after: positive("alerts.repeat_after", &self.repeat_after)?,
            group_within: positive("alerts.group_within", &self.group_within)?,
        })
    }

    /// Every name is a configured destination's, once.
    pub(super) fn check_names(
        &self,
        configured: &[DestinationSettings],
    ) -> Result<(), ConfigError> {
        for (i, name) in self.destinations.iter().enumerate() {
            let key = format!("alerts.destinations[{i}]");
            if self.destinations[..i].contains(name) {
                return Err(invalid(key, format!("{name:?} is named twice")));
            }
            if !configured.iter().any(|d| d.name == *name) {
                let names: Vec<&str> = configured.iter().map(|d| d.name.as_str()).collect();
                let reason = match names.is_empty() {
                    true => format!("{name:?} is not a destination: none is configured"),
                    false => format!(
                        "{name:?} is not a destination (configured: {})",
                        names.join(", ")
                    ),
                };
                return Err(invalid(key, reason));
            }
        }
        Ok(())
    }
}

fn positive(key: &str, text: &str) -> Result<Duration, ConfigError> {
    match parse_duration(text).map_err(|e| invalid(key, e))? {
        d if d.is_zero() => Err(invalid(key, "must be longer than 0s")),
        d => Ok(d),
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    const OPS: &str =
        "[[destinations]]\nname = \"ops\"\nkind = \"webhook\"\nurl = \"http://ops.internal/\"\n";

    fn error(text: &str) -> String {
        Config::from_toml(text, "t").unwrap_err().to_string()
    }

    #[test]
    fn every_mistake_names_its_key() {
        let alerts = |body: &str| format!("[alerts]\n{body}\n{OPS}");
        let cases = [
            (alerts("destinations = [\"opz\"]"), "alerts.destinations[0]: \"opz\" is not a destination (configured: ops)"),
            (alerts("destinations = [\"ops\", \"ops\"]"), "alerts.destinations[1]: \"ops\" is named twice"),
            (alerts("repeat_after = \"0s\""), "alerts.repeat_after: must be longer than 0s"),
            (alerts("group_within = \"soon\""), "alerts.group_within: \"soon\" is not a duration"),
            (alerts("destinations = [\"ops\"]\n") + "apps = [\"a\"]", "destinations[0].apps: \"ops\" receives operator events ([alerts] destinations), not reports"),
            (alerts("destinations = [\"ops\"]\n") + "[destinations.filter]\nstatus = \"hungup\"", "destinations[0].filter.status: \"ops\" receives operator events ([alerts] destinations), not reports"),
            (alerts("destinations = [\"ops\"]\n") + "[destinations.filter]\ntype = [\"delivery.died\"]", "destinations[0].filter.type: \"delivery.died\" matches no operator event type"),
            (format!("{OPS}[destinations.filter]\ntype = [\"delivery.*\"]"), "destinations[0].filter.type: selects operator events, and \"ops\" is not in [alerts] destinations"),
        ];
        for (toml, expected) in cases {
            let got = error(&toml);
            assert!(
                got.starts_with(expected),
                "{toml}\n  gave: {got}\n  want: {expected}"
            );
        }
    }

    #[test]
    fn an_alert_destination_takes_its_types_and_no_reports() {
        let c = Config::from_toml(
            &format!(
                "[alerts]\ndestinations = [\"ops\"]\nrepeat_after = \"5m\"\n{OPS}\
                 [destinations.filter]\ntype = [\"delivery.*\", \"call.overdue\"]\n\
                 [[destinations]]\nname = \"all\"\nkind = \"webhook\"\nurl = \"http://all.internal/\"\n"
            ),
            "t",
        )
        .unwrap();
        assert_eq!(c.alerts.repeat_after, std::time::Duration::from_secs(300));
        let (ops, all) = (&c.destinations[0], &c.destinations[1]);
        assert!(ops.route.is_none(), "no reports");
        let types = ops.alerts.as_ref().unwrap();
        assert!(types.matches("delivery.dead") && !types.matches("backlog.high"));
        assert!(all.alerts.is_none() && all.route.is_some());
        let every = Config::from_toml(&format!("[alerts]\ndestinations = [\"ops\"]\n{OPS}"), "t");
        assert!(every.unwrap().destinations[0]
            .alerts
            .as_ref()
            .unwrap()
            .matches("backlog.high"));
    }
}
