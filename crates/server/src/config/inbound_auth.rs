//! An app's inbound checks (`allow_from`, `path_token`, `basic_auth`, `verify`) and the
//! global `trusted_proxies`, validated so that a setting that cannot work stops start-up
//! naming its key: nothing ever falls back to open.

use super::{invalid, parse_duration, ConfigError, Secret};
use axum::http::HeaderName;
use ipnet::IpNet;
use ivrhook_protocol::SigningSecret;
use serde::Deserialize;
use std::{net::IpAddr, time::Duration};

/// The shortest `path_token`: guessing one is then out of reach.
const MIN_TOKEN: usize = 16;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileBasic {
    user: String,
    password: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileVerify {
    kind: String,
    secret: String,
    tolerance: Option<String>,
    header: Option<String>,
    encoding: Option<String>,
}

/// What a request for the app must show before anything of it is stored. Every check set
/// must pass; none set: the app is open, taking what the platform sends as it is.
#[derive(Debug, Clone, Default)]
pub struct InboundAuth {
    /// Source addresses and networks allowed (empty: any).
    pub allow_from: Vec<IpNet>,
    /// Reports must arrive at `{inbound.path}/{token}`.
    pub path_token: Option<Secret>,
    /// HTTP basic authentication.
    pub basic: Option<Basic>,
    /// A signature over the body.
    pub verify: Option<Verify>,
}

impl InboundAuth {
    /// No check set: any request naming the app is taken.
    pub fn is_open(&self) -> bool {
        self.allow_from.is_empty()
            && self.path_token.is_none()
            && self.basic.is_none()
            && self.verify.is_none()
    }
}

/// `basic_auth = { user, password }`.
#[derive(Debug, Clone)]
pub struct Basic {
    /// The user name.
    pub user: String,
    /// The password.
    pub password: Secret,
}

/// `verify = { kind = … }`: how a report's signature is checked.
#[derive(Debug, Clone)]
pub enum Verify {
    /// `webhook-id`, `webhook-timestamp` within `tolerance`, `webhook-signature`.
    StandardWebhooks {
        /// The `whsec_…` key.
        secret: SigningSecret,
        /// How far `webhook-timestamp` may be from now.
        tolerance: Duration,
    },
    /// The HMAC-SHA256 of the body in `header`, hex or base64 (a `sha256=` prefix allowed).
    Hmac {
        /// The header carrying the signature.
        header: HeaderName,
        /// The HMAC key.
        key: Secret,
        /// The signature is base64 (else hex).
        base64: bool,
    },
}

/// The `[[apps]]` keys of the inbound checks, as read.
#[derive(Debug, Default)]
pub(crate) struct FileAuth {
    pub allow_from: Option<Vec<String>>,
    pub path_token: Option<String>,
    pub basic_auth: Option<FileBasic>,
    pub verify: Option<FileVerify>,
}

impl FileAuth {
    pub(crate) fn validate(self, prefix: &str) -> Result<InboundAuth, ConfigError> {
        let key = |name: &str| format!("{prefix}.{name}");
        let allow_from = match self.allow_from {
            Some(list) if list.is_empty() => {
                return Err(invalid(
                    key("allow_from"),
                    "is empty: no address could send",
                ))
            }
            Some(list) => networks(&list, &key("allow_from"))?,
            None => Vec::new(),
        };
        let path_token = self
            .path_token
            .map(|t| token(t, &key("path_token")))
            .transpose()?;
        let basic = self
            .basic_auth
            .map(|b| basic(b, &key("basic_auth")))
            .transpose()?;
        let verify = self.verify.map(|v| verify(v, &key("verify"))).transpose()?;
        Ok(InboundAuth {
            allow_from,
            path_token,
            basic,
            verify,
        })
    }
}

/// Addresses (`203.0.113.7`) and networks (`203.0.113.0/24`, `2001:db8::/32`).
pub(crate) fn networks(list: &[String], key: &str) -> Result<Vec<IpNet>, ConfigError> {
    let one = |(i, text): (usize, &String)| {
        let text = text.trim();
        text.parse::<IpNet>()
            .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
            .map_err(|_| {
                let why = format!("{text:?} is not an address or a network like 203.0.113.0/24");
                invalid(format!("{key}[{i}]"), why)
            })
    };
    list.iter().enumerate().map(one).collect()
}

fn token(text: String, key: &str) -> Result<Secret, ConfigError> {
    if text.len() < MIN_TOKEN {
        let why = format!("is {} characters; use at least {MIN_TOKEN}", text.len());
        return Err(invalid(key, why));
    }
    if !text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(invalid(
            key,
            "may hold only letters, digits, - and _ (it is a URL path)",
        ));
    }
    Ok(Secret(text))
}

fn basic(b: FileBasic, key: &str) -> Result<Basic, ConfigError> {
    if b.user.is_empty() || b.user.contains(':') {
        return Err(invalid(
            format!("{key}.user"),
            "must be non-empty and hold no ':'",
        ));
    }
    if b.password.is_empty() {
        return Err(invalid(format!("{key}.password"), "is empty"));
    }
    Ok(Basic {
        user: b.user,
        password: Secret(b.password),
    })
}

fn verify(v: FileVerify, key: &str) -> Result<Verify, ConfigError> {
    let sub = |name: &str| format!("{key}.{name}");
    let misplaced = match v.kind.as_str() {
        "standard-webhooks" => [
            ("header", v.header.is_some()),
            ("encoding", v.encoding.is_some()),
        ],
        _ => [("tolerance", v.tolerance.is_some()), ("tolerance", false)],
    };
    if let Some((name, _)) = misplaced.iter().find(|(_, set)| *set) {
        let why = format!("is not a setting of kind = {:?}", v.kind);
        return Err(invalid(sub(name), why));
    }
    match v.kind.as_str() {
        "standard-webhooks" => {
            let secret = SigningSecret::parse(&v.secret).map_err(|e| invalid(sub("secret"), e))?;
            let text = v.tolerance.as_deref().unwrap_or("5m");
            let tolerance = parse_duration(text).map_err(|e| invalid(sub("tolerance"), e))?;
            if tolerance.is_zero() {
                return Err(invalid(sub("tolerance"), "must be greater than 0"));
            }
            Ok(Verify::StandardWebhooks { secret, tolerance })
        }
        "hmac-sha256" => {
            if v.secret.is_empty() {
                return Err(invalid(sub("secret"), "is empty"));
            }
            let text = v.header.as_deref().unwrap_or("X-Signature");
            let header = HeaderName::try_from(text)
                .map_err(|_| invalid(sub("header"), format!("{text:?} is not a header name")))?;
            let base64 = match v.encoding.as_deref().unwrap_or("hex") {
                "hex" => false,
                "base64" => true,
                other => {
                    return Err(invalid(
                        sub("encoding"),
                        format!("{other:?} must be hex or base64"),
                    ))
                }
            };
            Ok(Verify::Hmac {
                header,
                key: Secret(v.secret),
                base64,
            })
        }
        other => Err(invalid(
            sub("kind"),
            format!("{other:?} must be standard-webhooks or hmac-sha256"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn error(app: &str) -> String {
        let text = format!("[[apps]]\nid = \"a\"\n{app}");
        Config::from_toml(&text, "t").unwrap_err().to_string()
    }

    #[test]
    fn a_check_that_cannot_work_stops_start_up_naming_its_key() {
        let starts = |app: &str, key: &str| {
            let e = error(app);
            assert!(e.starts_with(key), "{app}: {e}");
        };
        starts("allow_from = [\"10.0.0.0/33\"]", "apps[0].allow_from[0]: ");
        starts("allow_from = []", "apps[0].allow_from: is empty");
        starts(
            "path_token = \"short\"",
            "apps[0].path_token: is 5 characters",
        );
        starts(
            "path_token = \"has/a/slash/in/it/ok\"",
            "apps[0].path_token: may hold",
        );
        starts(
            "basic_auth = { user = \"u\", password = \"\" }",
            "apps[0].basic_auth.password",
        );
        starts(
            "basic_auth = { user = \"a:b\", password = \"p\" }",
            "apps[0].basic_auth.user",
        );
        starts(
            "verify = { kind = \"rsa\", secret = \"x\" }",
            "apps[0].verify.kind",
        );
        starts(
            "verify = { kind = \"hmac-sha256\", secret = \"\" }",
            "apps[0].verify.secret: is empty",
        );
        starts(
            "verify = { kind = \"standard-webhooks\", secret = \"hunter2\" }",
            "apps[0].verify.secret",
        );
        let hmac = "verify = { kind = \"hmac-sha256\", secret = \"k\", encoding = \"b32\" }";
        starts(hmac, "apps[0].verify.encoding");
        let stray = "verify = { kind = \"hmac-sha256\", secret = \"k\", tolerance = \"1m\" }";
        starts(stray, "apps[0].verify.tolerance: is not a setting of kind");
        let e = Config::from_toml("trusted_proxies = [\"proxy.local\"]", "t").unwrap_err();
        assert!(e.to_string().starts_with("trusted_proxies[0]: "), "{e}");
    }

    #[test]
    fn secrets_do_not_show_in_debug() {
        let c = Config::from_toml(
            "[[apps]]\nid = \"a\"\npath_token = \"tok_0123456789abcdef\"\n\
             basic_auth = { user = \"u\", password = \"pass-9876\" }\n\
             verify = { kind = \"hmac-sha256\", secret = \"hmac-key-5555\" }",
            "t",
        )
        .unwrap();
        let shown = format!("{c:?}");
        for secret in ["tok_0123456789abcdef", "pass-9876", "hmac-key-5555"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }
}
