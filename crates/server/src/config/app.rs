//! One `[[apps]]` entry: the receiver's settings and, with `callback_url`, the sender's.

use super::{invalid, App, ConfigError};
use ivrhook_engine::{schedule::RetrySchedule, DestinationSettings};
use ivrhook_protocol::{AppId, SigningSecret};
use serde::Deserialize;
use std::time::Duration;

/// Jitter applied to every retry schedule: retries after an outage spread out.
const JITTER: f64 = 0.2;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileApp {
    pub id: String,
    #[serde(default)]
    pub require_known_calls: bool,
    pub callback_url: Option<String>,
    pub secret: Option<String>,
    pub timeout: Option<String>,
    pub max_in_flight: Option<u32>,
    pub retry_schedule: Option<Vec<String>>,
    pub ordered: Option<bool>,
}

impl FileApp {
    pub(super) fn validate(self, i: usize) -> Result<App, ConfigError> {
        let key = |name: &str| format!("apps[{i}].{name}");
        let id = AppId::try_from(self.id).map_err(|e| invalid(key("id"), e.to_string()))?;
        let Some(url) = self.callback_url else {
            let sender_keys = [
                ("secret", self.secret.is_some()),
                ("timeout", self.timeout.is_some()),
                ("max_in_flight", self.max_in_flight.is_some()),
                ("retry_schedule", self.retry_schedule.is_some()),
                ("ordered", self.ordered.is_some()),
            ];
            if let Some((name, _)) = sender_keys.iter().find(|(_, set)| *set) {
                return Err(invalid(
                    key(name),
                    "is a delivery setting, but callback_url is not set",
                ));
            }
            return Ok(App {
                id,
                require_known_calls: self.require_known_calls,
                delivery: None,
            });
        };
        let url: ivrhook_engine::Url = url
            .parse()
            .map_err(|e| invalid(key("callback_url"), format!("{url:?} is not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(invalid(
                key("callback_url"),
                format!("{url} must be an http:// or https:// URL with a host"),
            ));
        }
        let mut d = DestinationSettings::new(id.clone(), url);
        if let Some(secret) = self.secret {
            d.secret = Some(SigningSecret::parse(&secret).map_err(|e| invalid(key("secret"), e))?);
        }
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
                        .map_err(|e| invalid(format!("apps[{i}].retry_schedule[{j}]"), e))
                })
                .collect::<Result<Vec<_>, _>>()?;
            d.schedule = RetrySchedule::new(delays, JITTER)
                .map_err(|e| invalid(key("retry_schedule"), e))?;
        }
        if let Some(ordered) = self.ordered {
            d.ordered = ordered;
        }
        Ok(App {
            id,
            require_known_calls: self.require_known_calls,
            delivery: Some(d),
        })
    }
}

/// `200ms`, `5s`, `2m`, `1h`: a whole number and a unit.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let bad = || format!("{text:?} is not a duration like 200ms, 5s, 2m or 1h");
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let ms = match unit {
        "ms" => n,
        "s" => n * 1000,
        "m" => n * 60_000,
        "h" => n * 3_600_000,
        _ => return Err(bad()),
    };
    Ok(Duration::from_millis(ms))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn durations_take_a_number_and_a_unit() {
        assert_eq!(parse_duration("200ms"), Ok(Duration::from_millis(200)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        for bad in ["5", "s", "1.5s", "5 sec", "-1s", ""] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    fn error(app: &str) -> String {
        Config::from_toml(&format!("[[apps]]\nid = \"a\"\n{app}"), "t")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn delivery_settings_are_checked_and_named() {
        assert!(error("secret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"")
            .starts_with("apps[0].secret: is a delivery setting, but callback_url"));
        assert!(error("callback_url = \"ftp://x/y\"").starts_with("apps[0].callback_url: "));
        assert!(error("callback_url = \"not a url\"").starts_with("apps[0].callback_url: "));
        let url = "callback_url = \"http://127.0.0.1:9/cb\"\n";
        assert!(error(&format!("{url}secret = \"hunter2\""))
            .starts_with("apps[0].secret: must start with whsec_"));
        assert!(error(&format!("{url}timeout = \"5\"")).starts_with("apps[0].timeout: "));
        assert!(error(&format!("{url}max_in_flight = 0")).starts_with("apps[0].max_in_flight: "));
        assert!(error(&format!("{url}retry_schedule = [\"0s\", \"soon\"]"))
            .starts_with("apps[0].retry_schedule[1]: "));
        assert!(error(&format!("{url}retry_schedule = []")).starts_with("apps[0].retry_schedule: "));
    }

    #[test]
    fn a_full_sender_entry_parses() {
        let c = Config::from_toml(
            "[[apps]]\nid = \"a\"\ncallback_url = \"https://b.example/cb\"\ntimeout = \"2s\"\n\
             max_in_flight = 4\nretry_schedule = [\"0s\", \"200ms\"]\nordered = false",
            "t",
        )
        .unwrap();
        let d = c.apps[0].delivery.as_ref().unwrap();
        assert_eq!(
            (d.timeout, d.max_in_flight, d.ordered),
            (Duration::from_secs(2), 4, false)
        );
        assert_eq!(d.schedule.attempts(), 2);
    }
}
