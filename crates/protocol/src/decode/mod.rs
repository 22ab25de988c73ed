//! Decoding a request body into a [`Report`], as `spec/protocol.md` settles it.
//!
//! Two kinds of trouble: a *refusal* ([`DecodeError`], answered `108100`) for what the tables
//! require and the body lacks or gets wrong, checked in the spec's order (body, `appId`,
//! `callId`, `event`, the results array, `status`); and a *warning* for what a real platform
//! is seen to send but the tables do not allow. The lenient default keeps the report and
//! records the warnings; strict mode refuses the first warning as bad input.
//!
//! - `fields`: typed access to JSON fields with errors that name them.
//! - `entry`: the results array's entries.
//! - `hangup`: the hang-up notice.

mod entry;
mod fields;
mod hangup;

use crate::{AppId, CallId, CallStatus, Report, UtcOffset};
use fields::{kind, take_text_lenient, Ctx, FieldPath};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeSet;

/// How to decode: the platform's UTC offset for 17-digit times, and strictness.
#[derive(Debug, Clone, Copy, Default)]
pub struct DecodeOptions {
    /// The platform's clock, in which 17-digit times are read.
    pub offset: UtcOffset,
    /// Refuse (as `108100`) anything the lenient default would only warn about.
    pub strict: bool,
}

impl DecodeOptions {
    /// How a stored report is read again: leniently (it was accepted), with the offset it was
    /// received with (`None`, or text that no longer parses: the default).
    pub fn as_received(offset: Option<&str>) -> DecodeOptions {
        DecodeOptions {
            offset: offset.and_then(|o| o.parse().ok()).unwrap_or_default(),
            strict: false,
        }
    }
}

/// Something the tables do not allow but the lenient decoder kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// The field, as a path into the body: `isNonProfit[3]`, `hungup.timeStamp`.
    pub field: String,
    /// What the tables say, and what the body has instead.
    pub message: String,
}

/// A refusal: the body is bad input. `field` names what is wrong (`body` for the whole).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct DecodeError {
    /// The field at fault, as a path into the body; `body` for the whole.
    pub field: String,
    /// Why it is refused, for the answer's `msg`.
    pub reason: String,
}

impl DecodeError {
    pub(crate) fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        DecodeError {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// A decoded report with what the decoder noticed on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The report, in the domain's types.
    pub report: Report,
    /// What the lenient decoder kept although the tables do not allow it.
    pub warnings: Vec<Warning>,
    /// Which of the documented and observed forms the body used, e.g. `results-key:isNonProfit`,
    /// `time-type:number`; kept so operators can see what their platform really sends.
    pub forms: BTreeSet<&'static str>,
    /// The body's JSON re-serialised with sorted keys and no whitespace: two bodies are the
    /// same report (a platform retry) exactly when these bytes are equal.
    pub canonical: Vec<u8>,
}

/// Decodes a request body. A leading UTF-8 BOM is allowed.
pub fn decode(body: &[u8], opts: &DecodeOptions) -> Result<Decoded, DecodeError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let text = std::str::from_utf8(body).map_err(|e| {
        DecodeError::new(
            "body",
            format!("is not UTF-8 (invalid byte at offset {})", e.valid_up_to()),
        )
    })?;
    let value: Value = serde_json::from_str(text)
        .map_err(|e| DecodeError::new("body", format!("is not valid JSON: {e}")))?;
    decode_value(value, opts)
}

/// Decodes an already parsed JSON value (the API's submissions arrive this way too).
pub fn decode_value(value: Value, opts: &DecodeOptions) -> Result<Decoded, DecodeError> {
    let canonical = serde_json::to_vec(&value).unwrap_or_default();
    let Value::Object(obj) = value else {
        return Err(DecodeError::new(
            "body",
            format!("must be a JSON object, got {}", kind(&value)),
        ));
    };
    let mut cx = Ctx::new(obj, *opts);
    let app_id: AppId = cx.required_id("appId")?;
    let call_id: CallId = cx.required_id("callId")?;
    let event = cx.required_string("event")?;
    // The event's name is kept as text, and PostgreSQL's text cannot hold a NUL: refused here
    // by name, as the identifiers' control characters are, rather than failing the write.
    if let Some((at, _)) = event.char_indices().find(|(_, c)| c.is_control()) {
        let reason = format!("contains a control character at byte {at}");
        return Err(DecodeError::new("event", reason));
    }
    let multrpt = event == "multrpt";
    let (entries, status) = if multrpt {
        let (key, items) = cx.results_array()?;
        let status = take_status(&mut cx, true)?;
        (entry::decode_all(&mut cx.sink, key, items), status)
    } else {
        cx.sink.warn_kept(
            "event",
            format!("{event:?} is not multrpt"),
            "kept without checking it against the multrpt tables",
        );
        (Vec::new(), take_status(&mut cx, false)?)
    };
    let data = take_text_lenient(&mut cx.obj, "data", FieldPath::top("data"), &mut cx.sink);
    let hangup = cx
        .obj
        .remove("hungup")
        .and_then(|v| hangup::decode(v, &mut cx.sink));
    let fields::Finished {
        extra,
        warnings,
        forms,
        strict_refusal,
    } = cx.finish();
    if let (true, Some(refusal)) = (opts.strict, strict_refusal) {
        return Err(refusal);
    }
    let report = Report {
        app_id,
        call_id,
        event,
        status,
        data,
        entries,
        hangup,
        extra,
    };
    Ok(Decoded {
        report,
        warnings,
        forms,
        canonical,
    })
}

/// `status`: required for `multrpt`, an integer 0 or 1 (a string holding one is accepted with a
/// warning). For other events it is decoded when valid and otherwise left with the unknown fields.
fn take_status(cx: &mut Ctx, required: bool) -> Result<Option<CallStatus>, DecodeError> {
    let Some(value) = cx.peek("status") else {
        if required {
            return Err(DecodeError::new("status", "required field is missing"));
        }
        return Ok(None);
    };
    let (n, from_text) = match value {
        Value::Number(n) => (n.as_i64(), false),
        Value::String(s) => (s.trim().parse::<i64>().ok(), true),
        _ => (None, false),
    };
    let status = match n {
        Some(0) => Some(CallStatus::Completed),
        Some(1) => Some(CallStatus::HungUp),
        _ => None,
    };
    let Some(status) = status else {
        if !required {
            return Ok(None);
        }
        let got = match value {
            Value::Number(n) => n.to_string(),
            Value::String(s) => format!("the string {s:?}"),
            other => kind(other).to_owned(),
        };
        return Err(DecodeError::new(
            "status",
            format!("must be 0 (completed) or 1 (hung up early), got {got}"),
        ));
    };
    cx.take("status");
    if from_text {
        cx.sink.form("status-type:string");
        cx.sink
            .warn("status", "is a string; the table says integer 0 or 1");
    } else {
        cx.sink.form("status-type:integer");
    }
    Ok(Some(status))
}
