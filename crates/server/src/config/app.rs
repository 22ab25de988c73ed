//! One `[[apps]]` entry: the receiver's settings and, with `callback_url`, the sender's.

use super::{
    delivery::Common,
    inbound_auth::{FileAuth, FileBasic, FileVerify},
    invalid, App, ConfigError,
};
use ivrhook_engine::{
    callback_name,
    kinds::{callback, Kind},
    DestinationSettings,
};
use ivrhook_protocol::{AppId, SigningSecret};
use serde::Deserialize;
use std::{num::NonZeroU32, time::Duration};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileApp {
    pub id: String,
    #[serde(default)]
    pub require_known_calls: bool,
    pub expect_report_within: Option<String>,
    pub callback_url: Option<String>,
    pub secret: Option<String>,
    pub timeout: Option<String>,
    pub max_in_flight: Option<u32>,
    pub retry_schedule: Option<Vec<String>>,
    pub ordered: Option<bool>,
    pub allow_from: Option<Vec<String>>,
    pub path_token: Option<String>,
    pub basic_auth: Option<FileBasic>,
    pub verify: Option<FileVerify>,
    pub rate_limit: Option<String>,
    pub allow_private: Option<bool>,
    pub recordings: Option<bool>,
}

impl FileApp {
    pub(super) fn validate(self, i: usize) -> Result<App, ConfigError> {
        let prefix = format!("apps[{i}]");
        let key = |name: &str| format!("{prefix}.{name}");
        let id = AppId::try_from(self.id).map_err(|e| invalid(key("id"), e.to_string()))?;
        let auth = FileAuth {
            allow_from: self.allow_from,
            path_token: self.path_token,
            basic_auth: self.basic_auth,
            verify: self.verify,
        }
        .validate(&prefix)?;
        let rate_limit = (self.rate_limit.as_deref())
            .map(|t| RateLimit::parse(t).map_err(|e| invalid(key("rate_limit"), e)))
            .transpose()?;
        let expect_report_within = (self.expect_report_within.as_deref())
            .map(|t| report_within(t).map_err(|e| invalid(key("expect_report_within"), e)))
            .transpose()?;
        let recordings = self.recordings.unwrap_or(false);
        // allow_private also lets the app's recording links point inward.
        let allow_private = self.allow_private == Some(true);
        let common = Common {
            timeout: self.timeout,
            max_in_flight: self.max_in_flight,
            retry_schedule: self.retry_schedule,
            ordered: self.ordered,
            allow_private: self.allow_private.filter(|_| !recordings),
        };
        let Some(url) = self.callback_url else {
            let secret = [("secret", self.secret.is_some())];
            if let Some((name, _)) = secret.iter().chain(&common.set()).find(|(_, set)| *set) {
                let reason = match *name {
                    "allow_private" => {
                        "applies to callback_url and recording links, but neither callback_url \
                         nor recordings = true is set"
                    }
                    _ => "is a delivery setting, but callback_url is not set",
                };
                return Err(invalid(key(name), reason));
            }
            return Ok(App {
                id,
                require_known_calls: self.require_known_calls,
                expect_report_within,
                delivery: None,
                auth,
                rate_limit,
                recordings,
                allow_private,
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
        let secret = self
            .secret
            .map(|s| SigningSecret::parse(&s).map_err(|e| invalid(key("secret"), e)))
            .transpose()?;
        let spec = callback::Spec { url, secret };
        let mut d = DestinationSettings::new(callback_name(&id), Kind::Callback(spec));
        common.apply(&mut d, &prefix)?;
        if allow_private {
            d.reach = ivrhook_engine::kinds::Reach::Anywhere;
        }
        Ok(App {
            id,
            require_known_calls: self.require_known_calls,
            expect_report_within,
            delivery: Some(d),
            auth,
            rate_limit,
            recordings,
            allow_private,
        })
    }
}

/// A report's deadline after its call is registered (`expect_report_within`, `reportWithin`):
/// a duration longer than 0s.
pub fn report_within(text: &str) -> Result<Duration, String> {
    match parse_duration(text)? {
        d if d.is_zero() => Err("must be longer than 0s".into()),
        d => Ok(d),
    }
}

/// `rate_limit = "200/s"`: reports a second (`/s`), minute (`/m`) or hour (`/h`), taken as a
/// token bucket that holds one period's worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// The token bucket.
    pub quota: governor::Quota,
    /// Reports a period, as written.
    pub n: NonZeroU32,
    /// The period as written: `s`, `m` or `h`.
    pub per: &'static str,
}

impl RateLimit {
    /// `200/s`, `600/m`, `10000/h`; the error says what is wrong with `text`.
    pub fn parse(text: &str) -> Result<RateLimit, String> {
        let bad = || format!("{text:?} is not a rate like 200/s, 600/m or 10000/h");
        let (n, per) = text.trim().split_once('/').ok_or_else(bad)?;
        let n: NonZeroU32 = n.trim().parse().map_err(|_| bad())?;
        let (quota, per) = match per.trim() {
            "s" => (governor::Quota::per_second(n), "s"),
            "m" => (governor::Quota::per_minute(n), "m"),
            "h" => (governor::Quota::per_hour(n), "h"),
            _ => return Err(bad()),
        };
        Ok(RateLimit { quota, n, per })
    }
}

impl std::fmt::Display for RateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.n, self.per)
    }
}

/// `200ms`, `5s`, `2m`, `1h`: a whole number and a unit.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|_| format!("{text:?} is not a duration like 200ms, 5s, 2m, 1h or 30d"))
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
        assert_eq!(parse_duration("30d"), Ok(Duration::from_secs(30 * 86_400)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        for bad in ["5", "s", "5 parsecs", "-1s", ""] {
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
        assert_eq!(
            error(&format!("{url}timeout = 5")),
            "apps[0].timeout: 5 is a number, not a duration: write it with its unit, such as \"5s\""
        );
        let schedule = error(&format!("{url}retry_schedule = [\"0s\", 30]"));
        assert!(schedule.contains("such as \"30s\""), "{schedule}");
        assert!(error(&format!("{url}max_in_flight = 0")).starts_with("apps[0].max_in_flight: "));
        assert!(error(&format!("{url}retry_schedule = [\"0s\", \"soon\"]"))
            .starts_with("apps[0].retry_schedule[1]: "));
        assert!(error(&format!("{url}retry_schedule = []")).starts_with("apps[0].retry_schedule: "));
    }

    #[test]
    fn rate_limits_are_a_count_per_unit() {
        assert_eq!(RateLimit::parse("200/s").unwrap().to_string(), "200/s");
        assert_eq!(RateLimit::parse(" 600 / m ").unwrap().to_string(), "600/m");
        for bad in ["0/s", "200", "200/d", "x/s", "-1/s"] {
            assert!(RateLimit::parse(bad).is_err(), "{bad}");
        }
        assert!(error("rate_limit = \"fast\"").starts_with("apps[0].rate_limit: "));
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
