//! Typed access to a JSON object's fields, with refusals and warnings that name the field.

use super::{DecodeError, DecodeOptions, Warning};
use crate::IdError;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// Where warnings and observed forms collect while a body is decoded.
#[derive(Debug)]
pub(crate) struct Sink {
    pub opts: DecodeOptions,
    warnings: Vec<Warning>,
    forms: BTreeSet<&'static str>,
    /// The first warning's field and problem, without what was kept: strict mode's refusal.
    first_problem: Option<(String, String)>,
}

impl Sink {
    /// Something the contract does not allow, accepted as it is.
    pub fn warn(&mut self, field: impl Into<String>, problem: impl Into<String>) {
        let (field, problem) = (field.into(), problem.into());
        if self.first_problem.is_none() {
            self.first_problem = Some((field.clone(), problem.clone()));
        }
        self.warnings.push(Warning {
            field,
            message: problem,
        });
    }

    /// Something the contract does not allow, accepted as `kept` says.
    pub fn warn_kept(&mut self, field: impl Into<String>, problem: impl Into<String>, kept: &str) {
        let (field, problem) = (field.into(), problem.into());
        if self.first_problem.is_none() {
            self.first_problem = Some((field.clone(), problem.clone()));
        }
        self.warnings.push(Warning {
            field,
            message: format!("{problem}; {kept}"),
        });
    }

    pub fn form(&mut self, form: &'static str) {
        self.forms.insert(form);
    }
}

/// The top-level object being decoded; what is left of it at the end is the unknown fields.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub obj: Map<String, Value>,
    pub sink: Sink,
}

impl Ctx {
    pub fn new(obj: Map<String, Value>, opts: DecodeOptions) -> Self {
        Ctx {
            obj,
            sink: Sink {
                opts,
                warnings: Vec::new(),
                forms: BTreeSet::new(),
                first_problem: None,
            },
        }
    }

    pub fn peek(&self, key: &str) -> Option<&Value> {
        self.obj.get(key)
    }

    pub fn take(&mut self, key: &str) -> Option<Value> {
        self.obj.remove(key)
    }

    /// A required, non-empty string.
    pub fn required_string(&mut self, key: &str) -> Result<String, DecodeError> {
        match self.obj.remove(key) {
            None => Err(DecodeError::new(key, "required field is missing")),
            Some(Value::String(s)) if s.is_empty() => {
                Err(DecodeError::new(key, "must not be empty"))
            }
            Some(Value::String(s)) => Ok(s),
            Some(other) => Err(DecodeError::new(
                key,
                format!("must be a string, got {}", kind(&other)),
            )),
        }
    }

    /// A required identifier such as `appId`.
    pub fn required_id<T: TryFrom<String, Error = IdError>>(
        &mut self,
        key: &str,
    ) -> Result<T, DecodeError> {
        let s = self.required_string(key)?;
        T::try_from(s).map_err(|e| DecodeError::new(key, e.to_string()))
    }

    /// The results array: `result` as the table names it, or `isNonProfit` as the examples
    /// do; `result` wins when both are present (the other stays with the unknown fields).
    pub fn results_array(&mut self) -> Result<(&'static str, Vec<Value>), DecodeError> {
        let key = if self.obj.contains_key("result") {
            "result"
        } else if self.obj.contains_key("isNonProfit") {
            "isNonProfit"
        } else {
            return Err(DecodeError::new(
                "result",
                "required field is missing (isNonProfit is accepted too)",
            ));
        };
        self.sink.form(if key == "result" {
            "results-key:result"
        } else {
            "results-key:isNonProfit"
        });
        match self.obj.remove(key) {
            Some(Value::Array(items)) => Ok((key, items)),
            Some(other) => Err(DecodeError::new(
                key,
                format!("must be an array, got {}", kind(&other)),
            )),
            None => unreachable!("key was just found"),
        }
    }

    pub fn finish(self) -> Finished {
        Finished {
            extra: self.obj,
            warnings: self.sink.warnings,
            forms: self.sink.forms,
            strict_refusal: self.sink.first_problem.map(|(field, problem)| {
                let reason = format!(
                    "{problem} (the contract does not allow this; strict checking refuses it)"
                );
                DecodeError::new(field, reason)
            }),
        }
    }
}

/// What is left when a body is decoded.
pub(crate) struct Finished {
    /// The unknown fields.
    pub extra: Map<String, Value>,
    pub warnings: Vec<Warning>,
    pub forms: BTreeSet<&'static str>,
    /// The first warning as a refusal, for strict mode.
    pub strict_refusal: Option<DecodeError>,
}

/// Where a field is in the body, written out only for a warning: `data`, `hungup.dir`,
/// `isNonProfit[3].start`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FieldPath<'a> {
    within: Within<'a>,
    name: &'a str,
}

#[derive(Debug, Clone, Copy)]
enum Within<'a> {
    Body,
    Object(&'a str),
    Entry(&'a str, usize),
}

impl<'a> FieldPath<'a> {
    pub fn top(name: &'a str) -> Self {
        FieldPath {
            within: Within::Body,
            name,
        }
    }

    pub fn within(object: &'a str, name: &'a str) -> Self {
        FieldPath {
            within: Within::Object(object),
            name,
        }
    }

    /// A field of the entry at `index` of the results array `key`.
    pub fn entry(key: &'a str, index: usize, name: &'a str) -> Self {
        FieldPath {
            within: Within::Entry(key, index),
            name,
        }
    }
}

impl std::fmt::Display for FieldPath<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.within {
            Within::Body => f.write_str(self.name),
            Within::Object(o) => write!(f, "{o}.{}", self.name),
            Within::Entry(key, i) => write!(f, "{key}[{i}].{}", self.name),
        }
    }
}

/// The JSON type of a value, for messages.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// An optional text field. A string is taken as it is; another scalar or structure is kept as
/// its JSON text with a warning, so nothing the platform sent is dropped from the decoded form.
pub(crate) fn take_text_lenient(
    map: &mut Map<String, Value>,
    key: &str,
    path: FieldPath,
    sink: &mut Sink,
) -> Option<String> {
    match map.remove(key)? {
        Value::Null => None,
        Value::String(s) => Some(s),
        other => {
            sink.warn_kept(
                path.to_string(),
                format!("must be a string, got {}", kind(&other)),
                "kept as its JSON text",
            );
            Some(other.to_string())
        }
    }
}

/// A code-like field (`code`, `dir`, `reason`) that may come as a string or an integer: kept as
/// text. Other types are dropped with a warning (the raw body still has them).
pub(crate) fn take_code(
    map: &mut Map<String, Value>,
    key: &str,
    path: FieldPath,
    sink: &mut Sink,
) -> Option<String> {
    match map.remove(key)? {
        Value::String(s) => Some(s),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        Value::Null => None,
        other => {
            sink.warn(
                path.to_string(),
                format!("must be a string or an integer, got {}", kind(&other)),
            );
            None
        }
    }
}

/// A 17-digit time given as text or as a number. Unreadable times are dropped with a warning.
pub(crate) fn take_time(
    map: &mut Map<String, Value>,
    key: &str,
    path: FieldPath,
    sink: &mut Sink,
) -> Option<crate::Timestamp> {
    let text = match map.remove(key)? {
        Value::String(s) => {
            sink.form("time-type:string");
            s
        }
        Value::Number(n) if n.is_u64() => {
            sink.form("time-type:number");
            n.to_string()
        }
        other => {
            sink.warn(
                path.to_string(),
                format!("must be a 17-digit time, got {}", kind(&other)),
            );
            return None;
        }
    };
    match crate::Timestamp::parse(&text, sink.opts.offset) {
        Ok(t) => Some(t),
        Err(why) => {
            sink.warn(path.to_string(), why);
            None
        }
    }
}
