//! Entries of the results array (`result` or `isNonProfit`).

use super::fields::{kind, take_code, take_text_lenient, take_time, FieldPath, Sink};
use crate::{Command, Entry};
use serde_json::{Map, Value};

/// Decodes every entry; an entry never refuses the report, it warns.
pub(crate) fn decode_all(sink: &mut Sink, key: &str, items: Vec<Value>) -> Vec<Entry> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::Object(map) => Entry::Command(command(sink, key, i, map)),
            other => {
                sink.form("entry:non-object");
                sink.warn_kept(
                    format!("{key}[{i}]"),
                    format!("is {}, not an object", kind(&other)),
                    "kept as an unrecognised entry",
                );
                Entry::Unrecognised(other)
            }
        })
        .collect()
}

/// Picks the first of two accepted spellings of a key, recording which one came.
fn spelling(
    map: &Map<String, Value>,
    sink: &mut Sink,
    names: [(&'static str, &'static str); 2],
) -> Option<&'static str> {
    let (key, form) = names.into_iter().find(|(k, _)| map.contains_key(*k))?;
    sink.form(form);
    Some(key)
}

fn command(sink: &mut Sink, key: &str, index: usize, mut map: Map<String, Value>) -> Command {
    let field = |name: &'static str| FieldPath::entry(key, index, name);
    let event = match map.remove("event") {
        None => {
            sink.form("entry-event:absent");
            None
        }
        Some(Value::String(s)) => {
            sink.form("entry-event:present");
            Some(s)
        }
        Some(other) => {
            sink.warn(
                field("event").to_string(),
                format!("must be a string, got {}", kind(&other)),
            );
            None
        }
    };

    let code_key = spelling(
        &map,
        sink,
        [("code", "code-key:code"), ("Code", "code-key:Code")],
    );
    let code = match code_key {
        None => {
            sink.warn(field("code").to_string(), "required field is missing");
            None
        }
        Some(key) => {
            sink.form(match map.get(key) {
                Some(Value::Number(_)) => "code-type:number",
                _ => "code-type:string",
            });
            take_code(&mut map, key, field(key), sink)
        }
    };

    let time = |map: &mut Map<String, Value>, name: &'static str, sink: &mut Sink| {
        if !map.contains_key(name) {
            sink.warn(field(name).to_string(), "required field is missing");
        }
        take_time(map, name, field(name), sink)
    };
    let start = time(&mut map, "start", sink);
    let end = time(&mut map, "end", sink);

    let dtmf_key = spelling(
        &map,
        sink,
        [
            ("dtmfCode", "dtmf-key:dtmfCode"),
            ("dtmCode", "dtmf-key:dtmCode"),
        ],
    );
    let dtmf = dtmf_key
        .and_then(|key| take_text_lenient(&mut map, key, field(key), sink))
        .filter(|keys| !keys.is_empty());
    let data = take_text_lenient(&mut map, "data", field("data"), sink);

    Command {
        event,
        code,
        start,
        end,
        dtmf,
        data,
        extra: map,
    }
}
