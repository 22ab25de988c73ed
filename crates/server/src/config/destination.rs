//! One `[[destinations]]` entry: where received reports are forwarded (a webhook, a NATS
//! JetStream subject, a RabbitMQ exchange), which of them, and how.

use super::{delivery::Common, invalid, ConfigError};
use ivrhook_engine::{
    kinds::{body::BodyMode, nats, rabbitmq, template::Template, webhook, Kind},
    route::Route,
    DestinationSettings,
};
use ivrhook_protocol::{AppId, SigningSecret};
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileDestination {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub url: Option<String>,
    pub apps: Option<Vec<String>>,
    pub body: Option<String>,
    pub secret: Option<String>,
    pub headers: Option<BTreeMap<String, String>>,
    pub timeout: Option<String>,
    pub max_in_flight: Option<u32>,
    pub retry_schedule: Option<Vec<String>>,
    pub ordered: Option<bool>,
    pub max_backlog: Option<u64>,
    pub filter: Option<super::filter::FileFilter>,
    pub subject: Option<String>,
    pub stream: Option<String>,
    pub create_stream: Option<bool>,
    pub exchange: Option<String>,
    pub routing_key: Option<String>,
    pub allow_private: Option<bool>,
}

/// Keys only one kind has, with that kind.
const KIND_KEYS: [(&str, &str); 8] = [
    ("secret", "webhook"),
    ("allow_private", "webhook"),
    ("headers", "webhook"),
    ("subject", "nats"),
    ("stream", "nats"),
    ("create_stream", "nats"),
    ("exchange", "rabbitmq"),
    ("routing_key", "rabbitmq"),
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
    /// `apps` are the configured app ids (empty: any app is accepted).
    pub(super) fn validate(
        self,
        i: usize,
        apps: &HashSet<AppId>,
    ) -> Result<DestinationSettings, ConfigError> {
        let prefix = format!("destinations[{i}]");
        let key = |name: &str| format!("{prefix}.{name}");
        let name = self
            .name
            .clone()
            .ok_or_else(|| invalid(key("name"), "is required"))?;
        check_name(&name).map_err(|e| invalid(key("name"), e))?;
        let kind_name = self
            .kind
            .clone()
            .ok_or_else(|| invalid(key("kind"), "is required: webhook, nats or rabbitmq"))?;
        self.check_kind_keys(&kind_name, &key)?;
        let kind = match kind_name.as_str() {
            "webhook" => Kind::Webhook(self.webhook(&key)?),
            "nats" => Kind::Nats(self.nats(&key)?),
            "rabbitmq" => Kind::Rabbitmq(self.rabbitmq(&key)?),
            other => {
                return Err(invalid(
                    key("kind"),
                    format!("{other:?} is not a kind; use webhook, nats or rabbitmq"),
                ))
            }
        };
        let mut d = DestinationSettings::new(name, kind);
        d.route = Some(Route {
            apps: self.route_apps(apps, &key)?,
            filter: self
                .filter
                .map(|f| f.validate(&prefix))
                .transpose()?
                .unwrap_or_default(),
        });
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
            allow_private: self.allow_private,
        };
        common.apply(&mut d, &prefix)?;
        Ok(d)
    }

    /// A key of another kind is refused by name rather than ignored.
    fn check_kind_keys(&self, kind: &str, key: &dyn Fn(&str) -> String) -> Result<(), ConfigError> {
        let set = [
            self.secret.is_some(),
            self.allow_private.is_some(),
            self.headers.is_some(),
            self.subject.is_some(),
            self.stream.is_some(),
            self.create_stream.is_some(),
            self.exchange.is_some(),
            self.routing_key.is_some(),
        ];
        for ((name, owner), set) in KIND_KEYS.iter().zip(set) {
            if set && *owner != kind {
                return Err(invalid(
                    key(name),
                    format!("is a {owner} setting, but this destination's kind is {kind:?}"),
                ));
            }
        }
        Ok(())
    }

    fn url(&self, key: &dyn Fn(&str) -> String, schemes: &[&str]) -> Result<String, ConfigError> {
        let url = self
            .url
            .clone()
            .ok_or_else(|| invalid(key("url"), "is required"))?;
        let parsed: ivrhook_engine::Url = url
            .parse()
            .map_err(|e| invalid(key("url"), format!("is not a URL: {e}")))?;
        if !schemes.contains(&parsed.scheme()) || parsed.host_str().is_none_or(str::is_empty) {
            let shown = ivrhook_engine::kinds::shown(&url);
            return Err(invalid(
                key("url"),
                format!("{shown} must be a {} URL with a host", schemes.join("/")),
            ));
        }
        Ok(url)
    }

    fn body(&self, key: &dyn Fn(&str) -> String) -> Result<BodyMode, ConfigError> {
        self.body
            .as_deref()
            .map_or(Ok(BodyMode::Decoded), BodyMode::parse)
            .map_err(|e| invalid(key("body"), e))
    }

    fn webhook(&self, key: &dyn Fn(&str) -> String) -> Result<webhook::Spec, ConfigError> {
        let url = self.url(key, &["http", "https"])?;
        let secret = self
            .secret
            .as_deref()
            .map(|s| SigningSecret::parse(s).map_err(|e| invalid(key("secret"), e)))
            .transpose()?;
        let headers = super::filter::headers(self.headers.as_ref(), &key("headers"))?;
        Ok(webhook::Spec {
            url: url
                .parse()
                .map_err(|e| invalid(key("url"), format!("{e}")))?,
            body: self.body(key)?,
            secret,
            headers,
        })
    }

    fn nats(&self, key: &dyn Fn(&str) -> String) -> Result<nats::Spec, ConfigError> {
        let subject = self.subject.as_deref().ok_or_else(|| {
            invalid(
                key("subject"),
                "is required for a nats destination, e.g. \"ivr.{app}.{status}\"",
            )
        })?;
        let stream = self.stream.clone();
        if let Some(s) = &stream {
            if s.is_empty() || s.contains(['.', '*', '>', ' ', '/', '\\']) {
                return Err(invalid(
                    key("stream"),
                    format!("{s:?} is not a JetStream stream name"),
                ));
            }
        }
        let create_stream = self.create_stream.unwrap_or(false);
        if create_stream && stream.is_none() {
            return Err(invalid(
                key("create_stream"),
                "needs stream: the name of the stream to make",
            ));
        }
        Ok(nats::Spec {
            url: self.url(key, &["nats", "tls"])?,
            subject: Template::parse(subject).map_err(|e| invalid(key("subject"), e))?,
            stream,
            create_stream,
            body: self.body(key)?,
        })
    }

    fn rabbitmq(&self, key: &dyn Fn(&str) -> String) -> Result<rabbitmq::Spec, ConfigError> {
        if self
            .url
            .as_deref()
            .is_some_and(|u| u.starts_with("amqps://"))
        {
            return Err(invalid(
                key("url"),
                "amqps:// (TLS) is not supported by this version; use amqp:// on a private \
                 network or through a TLS tunnel",
            ));
        }
        let exchange = self.exchange.clone().ok_or_else(|| {
            invalid(
                key("exchange"),
                "is required for a rabbitmq destination (\"\" for the default exchange)",
            )
        })?;
        let routing_key = self.routing_key.as_deref().ok_or_else(|| {
            invalid(
                key("routing_key"),
                "is required for a rabbitmq destination, e.g. \"{app}.{status}\"",
            )
        })?;
        Ok(rabbitmq::Spec {
            url: self.url(key, &["amqp"])?,
            exchange,
            routing_key: Template::parse(routing_key)
                .map_err(|e| invalid(key("routing_key"), e))?,
            body: self.body(key)?,
        })
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
    use ivrhook_engine::{kinds::Kind, route::Keys};

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
        assert!(matches!(&crm.kind, Kind::Webhook(w) if w.headers.len() == 1));
        assert!(matches!(&c.destinations[1].kind, Kind::Rabbitmq(r) if r.exchange == "ivr"));
        let shown = format!("{c:?}");
        for secret in ["t0ps3cret", "hunter2", "s3cret@"] {
            assert!(!shown.contains(secret), "{secret} shown in {shown}");
        }
        assert_eq!(c.all_destinations().len(), 2);
    }

    /// The forwarding page's example is a working configuration: one destination of each
    /// kind, as documented.
    #[test]
    fn the_forwarding_pages_example_parses() {
        let page = include_str!("../../../../docs/forwarding.md");
        let example = page
            .split("```toml\n")
            .nth(1)
            .and_then(|rest| rest.split("```").next())
            .expect("the forwarding section has a TOML example");
        let c = Config::from_toml(example, "docs/forwarding.md").unwrap_or_else(|e| panic!("{e}"));
        let kinds: Vec<&str> = c
            .destinations
            .iter()
            .map(|d| match d.kind {
                Kind::Webhook(_) => "webhook",
                Kind::Nats(_) => "nats",
                Kind::Rabbitmq(_) => "rabbitmq",
                Kind::Callback(_) => "callback",
            })
            .collect();
        assert_eq!(kinds, ["webhook", "nats", "rabbitmq"]);
    }
}
