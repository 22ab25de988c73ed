//! A webhook destination's settings: `url`, `secret`, `headers` and `allow_private`, read
//! from its entry and shown without a credential.

use super::{Spec, Webhook};
use crate::kinds::{
    http::Clients,
    settings::{Entry, KindDef, KindError},
    Forward, Reach,
};
use crate::transport::Transport;
use ivrhook_protocol::SigningSecret;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{json, Value};
use std::{collections::BTreeMap, sync::Arc};

/// The webhook kind.
pub static DEF: KindDef = KindDef {
    name: "webhook",
    keys: &["url", "secret", "headers", "allow_private"],
    reference: "\
# webhook: POST, any 2xx delivers. url = \"http(s)://…\"; a Standard Webhooks signature
# (whsec_ + base64 key), extra headers, and whether the URL may reach a private,
# link-local or loopback address.
# secret = \"whsec_...\"
# headers = { \"X-Team\" = \"ivr\" }
# allow_private = false
",
    parse,
};

/// Headers ivrhook sets itself, which a destination's `headers` may not replace.
const RESERVED: [&str; 6] = [
    "content-type",
    "content-length",
    "host",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
];

fn parse(entry: &Entry<'_>) -> Result<Arc<dyn Forward>, KindError> {
    let url = entry.url(&["http", "https"])?;
    let secret = (entry.text("secret")?)
        .map(|s| SigningSecret::parse(s).map_err(|e| entry.invalid("secret", e)))
        .transpose()?;
    let headers = headers(entry, entry.texts("headers")?.unwrap_or_default())?;
    // Read by the delivery settings every destination has; checked here, where it belongs.
    entry.flag("allow_private")?;
    Ok(Arc::new(Spec {
        url: url
            .parse()
            .map_err(|e| entry.invalid("url", format!("{e}")))?,
        body: entry.body(),
        secret,
        headers,
    }))
}

fn headers(entry: &Entry<'_>, given: BTreeMap<String, String>) -> Result<HeaderMap, KindError> {
    let mut map = HeaderMap::new();
    for (name, value) in given {
        let at = format!("headers.{name}");
        let header = HeaderName::try_from(name.as_str())
            .map_err(|_| entry.invalid(&at, "is not a valid header name"))?;
        if RESERVED.contains(&header.as_str()) || header.as_str().starts_with("ivrhook-") {
            return Err(entry.invalid(&at, "is set by ivrhook itself"));
        }
        let value = HeaderValue::try_from(value.as_str())
            .map_err(|_| entry.invalid(&at, "is not a valid header value (visible ASCII only)"))?;
        map.insert(header, value);
    }
    Ok(map)
}

impl Forward for Spec {
    fn name(&self) -> &'static str {
        DEF.name
    }

    fn describe(&self) -> Value {
        json!({
            "kind": "webhook", "url": crate::kinds::shown(self.url.as_str()),
            "body": self.body.as_str(), "signed": self.secret.is_some(),
            "headers": self.headers.keys().map(|k| k.as_str()).collect::<Vec<_>>(),
        })
    }

    fn transport(&self, clients: &Clients, reach: Reach) -> Arc<dyn Transport> {
        Arc::new(Webhook::new(
            clients.get(reach).clone(),
            self.clone(),
            reach,
        ))
    }

    fn refused_by(&self, reach: Reach) -> Option<String> {
        crate::kinds::http::url_refused(&self.url, reach)
    }
}
