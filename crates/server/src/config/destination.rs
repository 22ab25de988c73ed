//! One `[[destinations]]` entry: where received reports are forwarded, which of them, and
//! how. The keys every destination has are read here; the kind's own keys (`url` among
//! them) are read by the kind's module (`ivrhook_engine::kinds::settings::KINDS`).

use super::{delivery::Common, described::closest, invalid, ConfigError};
use ivrhook_engine::{
    kinds::{
        body::BodyMode,
        settings::{kind_named, names, owner_of, Entry, KindDef},
        Kind,
    },
    route::Route,
    DestinationSettings,
};
use ivrhook_protocol::AppId;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::HashSet;

#[derive(Debug, Deserialize)]
pub(crate) struct FileDestination {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub apps: Option<Vec<String>>,
    pub body: Option<String>,
    pub timeout: Option<String>,
    pub max_in_flight: Option<u32>,
    pub retry_schedule: Option<Vec<String>>,
    pub ordered: Option<bool>,
    pub max_backlog: Option<u64>,
    pub filter: Option<super::filter::FileFilter>,
    /// Every other key: the kind's own, read by its module, or a mistake named by `own_keys`.
    #[serde(flatten)]
    pub own: Map<String, Value>,
}

/// The keys every destination has, in the order a refusal lists them.
const COMMON: [&str; 10] = [
    "name",
    "kind",
    "apps",
    "body",
    "timeout",
    "max_in_flight",
    "retry_schedule",
    "ordered",
    "max_backlog",
    "filter",
];

/// A forward destination's name: it labels metrics and keys deliveries, so it stays plain.
fn check_name(name: &str) -> Result<(), String> {
    let plain = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-';
    if name.is_empty() || name.len() > 64 || !name.chars().all(plain) {
        return Err(format!(
            "{name:?} must be 1 to 64 characters of a-z, 0-9, _ and -"
        ));
    }
    Ok(())
}

impl FileDestination {
    /// `apps` are the configured app ids (empty: any app is accepted); `alert`: whether
    /// `[alerts]` names it (then it receives operator events, not reports).
    pub(super) fn validate(
        self,
        i: usize,
        apps: &HashSet<AppId>,
        alert: bool,
    ) -> Result<DestinationSettings, ConfigError> {
        let prefix = format!("destinations[{i}]");
        let key = |name: &str| format!("{prefix}.{name}");
        let name = self
            .name
            .clone()
            .ok_or_else(|| invalid(key("name"), "is required"))?;
        check_name(&name).map_err(|e| invalid(key("name"), e))?;
        let kind_name = (self.kind.clone())
            .ok_or_else(|| invalid(key("kind"), format!("is required: {}", names())))?;
        let def = kind_named(&kind_name).ok_or_else(|| {
            let reason = format!("{kind_name:?} is not a kind; use {}", names());
            invalid(key("kind"), reason)
        })?;
        self.own_keys(def, &key)?;
        let body = (self.body.as_deref())
            .map_or(Ok(BodyMode::Decoded), BodyMode::parse)
            .map_err(|e| invalid(key("body"), e))?;
        let forward = (def.parse)(&Entry::new(&self.own, &prefix, body)).map_err(|e| {
            ConfigError::Invalid {
                key: e.key,
                reason: e.reason,
            }
        })?;
        let mut d = DestinationSettings::new(name.clone(), Kind::Forward(forward));
        if alert {
            if self.apps.is_some() {
                return Err(invalid(key("apps"), super::filter::not_reports(&name)));
            }
            let filter = self.filter.map(|f| f.validate_alerts(&prefix, &name));
            d.alerts = Some(filter.transpose()?.unwrap_or_default());
        } else {
            let apps = self.route_apps(apps, &key)?;
            let filter = self.filter.map(|f| f.validate(&prefix, &name));
            d.route = Some(Route {
                apps,
                filter: filter.transpose()?.unwrap_or_default(),
            });
        }
        if let Some(max) = self.max_backlog {
            if max == 0 {
                return Err(invalid(key("max_backlog"), "must be at least 1"));
            }
            d.max_backlog = max;
        }
        let common = Common {
            timeout: self.timeout,
            max_in_flight: self.max_in_flight,
            retry_schedule: self.retry_schedule,
            ordered: self.ordered,
            allow_private: self.own.get("allow_private").and_then(Value::as_bool),
        };
        common.apply(&mut d, &prefix)?;
        Ok(d)
    }

    /// A key of another kind is refused by name, and one of no kind as a mistake, with the
    /// key most likely meant.
    fn own_keys(&self, def: &KindDef, key: &dyn Fn(&str) -> String) -> Result<(), ConfigError> {
        for name in self.own.keys() {
            if def.keys.contains(&name.as_str()) {
                continue;
            }
            let reason = match owner_of(name) {
                Some(owner) => {
                    format!(
                        "is a {owner} setting, but this destination's kind is {:?}",
                        def.name
                    )
                }
                None => {
                    let known: Vec<&str> = COMMON.iter().chain(def.keys).copied().collect();
                    let listed: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
                    let text = format!("is not a key here (known: {})", listed.join(", "));
                    match closest(name, &known) {
                        Some(meant) => format!("{text}; did you mean `{meant}`?"),
                        None => text,
                    }
                }
            };
            return Err(invalid(key(name), reason));
        }
        Ok(())
    }

    fn route_apps(
        &self,
        configured: &HashSet<AppId>,
        key: &dyn Fn(&str) -> String,
    ) -> Result<Option<HashSet<AppId>>, ConfigError> {
        let Some(list) = &self.apps else {
            return Ok(None);
        };
        let mut apps = HashSet::new();
        for (j, app) in list.iter().enumerate() {
            let at = || key(&format!("apps[{j}]"));
            let id = AppId::try_from(app.as_str()).map_err(|e| invalid(at(), e.to_string()))?;
            if !configured.is_empty() && !configured.contains(&id) {
                return Err(invalid(at(), format!("{id} is not an app in [[apps]]")));
            }
            apps.insert(id);
        }
        Ok(Some(apps))
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use ivrhook_engine::route::Keys;

    fn error(entries: &str) -> String {
        Config::from_toml(entries, "t").unwrap_err().to_string()
    }

    const HOOK: &str =
        "[[destinations]]\nname = \"crm\"\nkind = \"webhook\"\nurl = \"http://crm.internal/ivr\"\n";

    #[test]
    fn every_mistake_names_its_key() {
        let cases = [
            ("[[destinations]]\nname = \"crm\"", "destinations[0].kind: is required"),
            ("[[destinations]]\nkind = \"webhook\"", "destinations[0].name: is required"),
            (&HOOK.replace("crm\"", "CRM\""), "destinations[0].name: \"CRM\" must be"),
            (&format!("{HOOK}{HOOK}"), "destinations[1].name: \"crm\" is used by another"),
            (&HOOK.replace("webhook", "kafka"), "destinations[0].kind: \"kafka\" is not a kind"),
            (&format!("{HOOK}subject = \"x\""), "destinations[0].subject: is a nats setting, but this destination's kind is \"webhook\""),
            (&HOOK.replace("http://crm.internal/ivr", "ftp://x/"), "destinations[0].url: ftp://x/ must be a http/https URL"),
            (&HOOK.replace("url = \"http://crm.internal/ivr\"\n", ""), "destinations[0].url: is required"),
            (&format!("{HOOK}body = \"both\""), "destinations[0].body: \"both\" must be"),
            (&format!("{HOOK}secret = \"x\""), "destinations[0].secret: must start with whsec_"),
            (&format!("{HOOK}headers = {{ \"Content-Type\" = \"x\" }}"), "destinations[0].headers.Content-Type: is set by ivrhook itself"),
            (&format!("{HOOK}max_backlog = 0"), "destinations[0].max_backlog: must be at least 1"),
            (&format!("{HOOK}timeout = \"soon\""), "destinations[0].timeout: "),
            (&format!("{HOOK}retry_schedule = [\"1s\", \"x\"]"), "destinations[0].retry_schedule[1]: "),
            (&format!("{HOOK}[destinations.filter]\nstatus = \"maybe\""), "destinations[0].filter.status: \"maybe\" must be"),
            (&format!("{HOOK}[destinations.filter]\ndtmf = \"\""), "destinations[0].filter.dtmf: must be the keys"),
            (&format!("[[apps]]\nid = \"a1\"\n{HOOK}apps = [\"a2\"]"), "destinations[0].apps[0]: a2 is not an app in [[apps]]"),
            ("[[destinations]]\nname = \"bus\"\nkind = \"nats\"\nurl = \"nats://n:4222\"", "destinations[0].subject: is required"),
            ("[[destinations]]\nname = \"bus\"\nkind = \"nats\"\nurl = \"nats://n:4222\"\nsubject = \"ivr.{ap}\"", "destinations[0].subject: {ap} is not a placeholder"),
            ("[[destinations]]\nname = \"bus\"\nkind = \"nats\"\nurl = \"nats://n:4222\"\nsubject = \"s\"\ncreate_stream = true", "destinations[0].create_stream: needs stream"),
            ("[[destinations]]\nname = \"mq\"\nkind = \"rabbitmq\"\nurl = \"amqps://h/%2f\"\nexchange = \"\"\nrouting_key = \"k\"", "destinations[0].url: amqps:// (TLS) is not supported"),
            ("[[destinations]]\nname = \"mq\"\nkind = \"rabbitmq\"\nurl = \"amqp://h/%2f\"\nrouting_key = \"k\"", "destinations[0].exchange: is required"),
        ];
        for (toml, expected) in cases {
            let got = error(toml);
            assert!(
                got.starts_with(expected),
                "{toml}\n  gave: {got}\n  want: {expected}"
            );
        }
        assert!(
            error(&format!("{HOOK}[destinations.filter]\nstatu = \"x\""))
                .starts_with("destinations[0].filter.statu: is not a key here")
        );
    }

    #[test]
    fn a_full_entry_parses_and_shows_no_credential() {
        let c = Config::from_toml(
            "[[apps]]\nid = \"a1\"\n\
             [[destinations]]\nname = \"crm\"\nkind = \"webhook\"\nurl = \"https://crm.internal/ivr?token=t0ps3cret\"\n\
             apps = [\"a1\"]\nbody = \"raw\"\nheaders = { \"Authorization\" = \"Bearer hunter2\" }\n\
             timeout = \"2s\"\nmax_in_flight = 4\nordered = false\nmax_backlog = 10\n\
             [destinations.filter]\nstatus = \"hungup\"\ndtmf = \"*\"\nhas_recording = true\n\
             [[destinations]]\nname = \"archive\"\nkind = \"rabbitmq\"\n\
             url = \"amqp://guest:s3cret@127.0.0.1:5672/%2f\"\nexchange = \"ivr\"\nrouting_key = \"{app}.{status}\"\n",
            "t",
        )
        .unwrap();
        let crm = &c.destinations[0];
        assert_eq!(
            (crm.max_in_flight, crm.ordered, crm.max_backlog),
            (4, false, 10)
        );
        let route = crm.route.as_ref().unwrap();
        assert_eq!(route.filter.dtmf, Some(Keys::Any));
        assert_eq!(route.apps.as_ref().map(|a| a.len()), Some(1));
        assert_eq!(
            crm.kind.describe()["headers"],
            serde_json::json!(["authorization"])
        );
        assert_eq!(c.destinations[1].kind.describe()["exchange"], "ivr");
        let shown = format!("{c:?}");
        for secret in ["t0ps3cret", "hunter2", "s3cret@"] {
            assert!(!shown.contains(secret), "{secret} shown in {shown}");
        }
        assert_eq!(c.all_destinations().len(), 2);
    }

    /// The forwarding page's example is a working configuration: one destination of each
    /// forward kind, as documented.
    #[test]
    fn the_forwarding_pages_example_parses() {
        let page = include_str!("../../../../docs/forwarding.md");
        let example = page
            .split("```toml\n")
            .nth(1)
            .and_then(|rest| rest.split("```").next())
            .expect("the forwarding section has a TOML example");
        let c = Config::from_toml(example, "docs/forwarding.md").unwrap_or_else(|e| panic!("{e}"));
        let kinds: Vec<&str> = c.destinations.iter().map(|d| d.kind.name()).collect();
        let registered = ivrhook_engine::kinds::settings::KINDS
            .iter()
            .map(|k| k.name);
        assert_eq!(kinds, registered.collect::<Vec<_>>());
    }
}
