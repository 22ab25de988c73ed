//! What every forward kind's settings share: the registry of kinds, an entry's keys as the
//! configuration gives them, and the refusal that names a key and why.

use super::{body::BodyMode, Forward};
use serde_json::{Map, Value};
use std::{collections::BTreeMap, sync::Arc};

/// Every forward kind, one line each: adding a kind is its module and its line here.
pub static KINDS: &[&KindDef] = &[
    &super::webhook::DEF,
    &super::nats::DEF,
    &super::rabbitmq::DEF,
    &super::redis::DEF,
    &super::mqtt::DEF,
];

/// A forward kind as the configuration knows it.
#[derive(Debug)]
pub struct KindDef {
    /// Its name, as `kind =` writes it.
    pub name: &'static str,
    /// The keys only destinations of this kind take, `url` among them.
    pub keys: &'static [&'static str],
    /// Its lines in the configuration reference (commented out, as `ivrhook config` prints).
    pub reference: &'static str,
    /// Reads an entry of this kind: its own keys, and the common `body` already read.
    pub parse: fn(&Entry<'_>) -> Result<Arc<dyn Forward>, KindError>,
}

/// The kind named `name`.
pub fn kind_named(name: &str) -> Option<&'static KindDef> {
    KINDS.iter().copied().find(|k| k.name == name)
}

/// The kind a key belongs to, when it belongs to one kind only.
pub fn owner_of(key: &str) -> Option<&'static str> {
    let mut owners = KINDS.iter().filter(|k| k.keys.contains(&key));
    match (owners.next(), owners.next()) {
        (Some(k), None) => Some(k.name),
        _ => None,
    }
}

/// The kinds' names, as a sentence lists them: `webhook, nats or rabbitmq`.
pub fn names() -> String {
    let names: Vec<&str> = KINDS.iter().map(|k| k.name).collect();
    match names.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// A setting refused: the key as the messages name it (`destinations[0].url`), and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindError {
    /// The key.
    pub key: String,
    /// Why.
    pub reason: String,
}

/// One `[[destinations]]` entry's kind keys, as the configuration gives them.
#[derive(Debug)]
pub struct Entry<'a> {
    keys: &'a Map<String, Value>,
    prefix: &'a str,
    body: BodyMode,
}

impl<'a> Entry<'a> {
    /// The entry's keys of its kind, under `prefix` (`destinations[0]`), with its `body`.
    pub fn new(keys: &'a Map<String, Value>, prefix: &'a str, body: BodyMode) -> Entry<'a> {
        Entry { keys, prefix, body }
    }

    /// The common `body` key.
    pub fn body(&self) -> BodyMode {
        self.body
    }

    /// A refusal of `name`.
    pub fn invalid(&self, name: &str, reason: impl Into<String>) -> KindError {
        KindError {
            key: format!("{}.{name}", self.prefix),
            reason: reason.into(),
        }
    }

    /// A text value, when set.
    pub fn text(&self, name: &str) -> Result<Option<&'a str>, KindError> {
        self.typed(name, "a string", Value::as_str)
    }

    /// A text value that must be set; `hint` says what it is for.
    pub fn required(&self, name: &str, hint: &str) -> Result<&'a str, KindError> {
        self.text(name)?.ok_or_else(|| self.invalid(name, hint))
    }

    /// A true/false value, when set.
    pub fn flag(&self, name: &str) -> Result<Option<bool>, KindError> {
        self.typed(name, "true or false", Value::as_bool)
    }

    /// A whole number, when set.
    pub fn number(&self, name: &str) -> Result<Option<u64>, KindError> {
        self.typed(name, "a whole number", Value::as_u64)
    }

    /// A table of text values, when set.
    pub fn texts(&self, name: &str) -> Result<Option<BTreeMap<String, String>>, KindError> {
        let Some(table) = self.typed(name, "a table", Value::as_object)? else {
            return Ok(None);
        };
        let mut texts = BTreeMap::new();
        for (key, value) in table {
            let text = (value.as_str()).ok_or_else(|| {
                self.invalid(
                    &format!("{name}.{key}"),
                    format!("{} is not a string", kind_of(value)),
                )
            })?;
            texts.insert(key.clone(), text.to_owned());
        }
        Ok(Some(texts))
    }

    /// The `url`, which must be set, parse, name a host and have one of `schemes`.
    pub fn url(&self, schemes: &[&str]) -> Result<String, KindError> {
        let url = self.required("url", "is required")?;
        let parsed: reqwest::Url = url
            .parse()
            .map_err(|e| self.invalid("url", format!("is not a URL: {e}")))?;
        if !schemes.contains(&parsed.scheme()) || parsed.host_str().is_none_or(str::is_empty) {
            let reason = format!(
                "{} must be a {} URL with a host",
                super::shown(url),
                schemes.join("/")
            );
            return Err(self.invalid("url", reason));
        }
        Ok(url.to_owned())
    }

    fn typed<T>(
        &self,
        name: &str,
        expected: &str,
        read: impl Fn(&'a Value) -> Option<T>,
    ) -> Result<Option<T>, KindError> {
        match self.keys.get(name) {
            None => Ok(None),
            Some(value) => read(value).map(Some).ok_or_else(|| {
                self.invalid(
                    name,
                    format!("found {}, expected {expected}", kind_of(value)),
                )
            }),
        }
    }
}

/// What a value is, as a refusal names it.
fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_u64() || n.is_i64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a table",
    }
}
