//! A RabbitMQ destination's settings: `url`, `exchange` and `routing_key`.

use super::{Rabbitmq, Spec};
use crate::kinds::{
    http::Clients,
    settings::{Entry, KindDef, KindError},
    template::Template,
    Forward, Reach,
};
use crate::transport::Transport;
use serde_json::{json, Value};
use std::sync::Arc;

/// The RabbitMQ kind.
pub static DEF: KindDef = KindDef {
    name: "rabbitmq",
    keys: &["url", "exchange", "routing_key"],
    reference: "\
# rabbitmq: publisher confirms, persistent, mandatory. url =
# \"amqp://user:pass@host:port/vhost\"; the exchange (\"\" for the default one) and the
# routing key.
# exchange = \"ivr\"
# routing_key = \"{app}.{status}\"
",
    parse,
};

fn parse(entry: &Entry<'_>) -> Result<Arc<dyn Forward>, KindError> {
    if entry
        .text("url")?
        .is_some_and(|u| u.starts_with("amqps://"))
    {
        let reason = "amqps:// (TLS) is not supported by this version; use amqp:// on a \
                      private network or through a TLS tunnel";
        return Err(entry.invalid("url", reason));
    }
    let exchange = entry.required(
        "exchange",
        "is required for a rabbitmq destination (\"\" for the default exchange)",
    )?;
    let routing_key = entry.required(
        "routing_key",
        "is required for a rabbitmq destination, e.g. \"{app}.{status}\"",
    )?;
    Ok(Arc::new(Spec {
        url: entry.url(&["amqp"])?,
        exchange: exchange.to_owned(),
        routing_key: Template::parse(routing_key).map_err(|e| entry.invalid("routing_key", e))?,
        body: entry.body(),
    }))
}

impl Forward for Spec {
    fn name(&self) -> &'static str {
        DEF.name
    }

    fn describe(&self) -> Value {
        json!({
            "kind": "rabbitmq", "url": crate::kinds::shown(&self.url), "exchange": self.exchange,
            "routingKey": self.routing_key.text(), "body": self.body.as_str(),
        })
    }

    fn transport(&self, _clients: &Clients, _reach: Reach) -> Arc<dyn Transport> {
        Arc::new(Rabbitmq::new(self.clone()))
    }
}
