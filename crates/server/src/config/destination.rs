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
}

/// Keys only one kind has, with that kind.
const KIND_KEYS: [(&str, &str); 7] = [
    ("secret", "webhook"),
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
        };
        common.apply(&mut d, &prefix)?;
        Ok(d)
    }

    /// A key of another kind is refused by name rather than ignored.
    fn check_kind_keys(&self, kind: &str, key: &dyn Fn(&str) -> String) -> Result<(), ConfigError> {
        let set = [
            self.secret.is_some(),
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
