//! A Redis Streams destination's settings: `url`, `password_env`, `stream`, `max_len` and
//! `fields`.

use super::{Redis, Spec};
use crate::kinds::{
    http::Clients,
    settings::{Entry, KindDef, KindError},
    template::Template,
    Forward, Reach,
};
use crate::transport::Transport;
use redis::IntoConnectionInfo;
use serde_json::{json, Value};
use std::sync::Arc;

/// The Redis Streams kind.
pub static DEF: KindDef = KindDef {
    name: "redis",
    keys: &["url", "password_env", "stream", "max_len", "fields"],
    reference: "\
# redis: XADD to a stream, Redis's answer delivers. url = \"redis://host:port/db\" or
# \"rediss://…\" (TLS, the machine's roots); a password in the URL or in the environment
# variable password_env; the stream ({app} {event} {status} {call}); trim to about max_len
# entries (MAXLEN ~; default: never); fields: callId, appId and code beside the body.
# password_env = \"REDIS_PASSWORD\"
# stream = \"calls.{app}\"
# max_len = 1000000
# fields = false
",
    parse,
};

fn parse(entry: &Entry<'_>) -> Result<Arc<dyn Forward>, KindError> {
    let stream = entry.required(
        "stream",
        "is required for a redis destination, e.g. \"calls.{app}\"",
    )?;
    let max_len = entry.number("max_len")?;
    if max_len == Some(0) {
        return Err(entry.invalid("max_len", "must be at least 1"));
    }
    let password = match entry.text("password_env")? {
        None => None,
        Some(name) => Some(std::env::var(name).map_err(|_| {
            entry.invalid(
                "password_env",
                format!("{name} is not set in the environment"),
            )
        })?),
    };
    let spec = Spec {
        url: entry.url(&["redis", "rediss"])?,
        password,
        stream: Template::parse(stream).map_err(|e| entry.invalid("stream", e))?,
        max_len,
        fields: entry.flag("fields")?.unwrap_or(false),
        body: entry.body(),
    };
    client(&spec).map_err(|e| entry.invalid("url", e.to_string()))?;
    Ok(Arc::new(spec))
}

/// The client for `spec`: its URL, with the password from the environment when given.
pub(super) fn client(spec: &Spec) -> redis::RedisResult<redis::Client> {
    let mut info = spec.url.as_str().into_connection_info()?;
    if let Some(password) = &spec.password {
        let settings = info.redis_settings().clone().set_password(password);
        info = info.set_redis_settings(settings);
    }
    redis::Client::open(info)
}

impl Forward for Spec {
    fn name(&self) -> &'static str {
        DEF.name
    }

    fn describe(&self) -> Value {
        json!({
            "kind": "redis", "url": crate::kinds::shown(&self.url), "stream": self.stream.text(),
            "maxLen": self.max_len, "fields": self.fields, "body": self.body.as_str(),
        })
    }

    fn transport(&self, _clients: &Clients, _reach: Reach) -> Arc<dyn Transport> {
        Arc::new(Redis::new(self.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::body::BodyMode;

    fn parsed(keys: Value) -> Result<Arc<dyn Forward>, String> {
        let keys = keys.as_object().unwrap().clone();
        let entry = Entry::new(&keys, "destinations[0]", BodyMode::Decoded);
        parse(&entry).map_err(|e| format!("{}: {}", e.key, e.reason))
    }

    #[test]
    fn every_mistake_names_its_key() {
        let url = "redis://127.0.0.1:6379/0";
        let cases = [
            (json!({"url": url}), "destinations[0].stream: is required"),
            (
                json!({"url": url, "stream": "s.{ap}"}),
                "destinations[0].stream: {ap} is not a placeholder",
            ),
            (
                json!({"url": url, "stream": "s", "max_len": 0}),
                "destinations[0].max_len: must be at least 1",
            ),
            (
                json!({"url": url, "stream": "s", "max_len": "many"}),
                "destinations[0].max_len: found a string, expected a whole number",
            ),
            (
                json!({"url": url, "stream": "s", "fields": "yes"}),
                "destinations[0].fields: found a string, expected true or false",
            ),
            (
                json!({"url": url, "stream": "s", "password_env": "IVRHOOK_TEST_UNSET_9"}),
                "destinations[0].password_env: IVRHOOK_TEST_UNSET_9 is not set in the environment",
            ),
            (
                json!({"url": "http://x/", "stream": "s"}),
                "destinations[0].url: http://x/ must be a redis/rediss URL",
            ),
            (
                json!({"url": "redis://x/notadb", "stream": "s"}),
                "destinations[0].url: ",
            ),
        ];
        for (keys, expected) in cases {
            let got = parsed(keys.clone()).expect_err("refused");
            assert!(
                got.starts_with(expected),
                "{keys}\n  gave: {got}\n  want: {expected}"
            );
        }
    }

    #[test]
    fn a_full_entry_shows_no_credential() {
        let keys = json!({"url": "rediss://ivr:s3cret@redis.internal:6380/2", "stream": "calls.{app}",
                          "max_len": 1000, "fields": true});
        let spec = parsed(keys).unwrap();
        let shown = spec.describe();
        assert_eq!(shown["url"], "rediss://ivr:***@redis.internal:6380/2");
        assert_eq!(
            (shown["stream"].as_str(), shown["maxLen"].as_u64()),
            (Some("calls.{app}"), Some(1000))
        );
        assert!(!format!("{spec:?}").contains("s3cret"));
    }
}
