//! Operator events as they are sent: an envelope (`schemaVersion`, `type`, `id`, `at`,
//! `node`) around the subject's fields. `docs/operator-events.schema.json` describes them.

use serde_json::{json, Map, Value};

/// The envelope's `schemaVersion`.
pub const SCHEMA_VERSION: u32 = 1;

/// A dead delivery as `delivery.dead` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadDelivery {
    /// The delivery's id.
    pub id: i64,
    /// The app of its report or event.
    pub app: String,
    /// The call it is about.
    pub call: String,
    /// Attempts made, the last included.
    pub attempts: u32,
    /// The last answer: a contract code, `HTTP 500`, `acknowledged` or `no answer`.
    pub last_answer: String,
    /// Why it is dead.
    pub reason: String,
}

/// What an operator event is about.
#[derive(Debug, Clone, PartialEq)]
pub enum Subject {
    /// Deliveries to one destination that died within one `group_within`: part `part` of
    /// `parts`, `total` of them in all.
    Dead {
        /// Where they were going.
        destination: String,
        /// This message's share, at most [`super::gather::IDS_PER_MESSAGE`].
        deliveries: Vec<DeadDelivery>,
        /// Dead in the window, named or not.
        total: u64,
        /// This message's number, from 1.
        part: usize,
        /// Messages for the window.
        parts: usize,
    },
    /// A destination's breaker opened (`failing`) or closed again after one was announced.
    Health {
        /// The destination.
        destination: String,
        /// Whether it is failing (else recovered).
        failing: bool,
        /// Failed attempts among the recent ones, 0 to 1.
        error_rate: f64,
        /// The last failure's error, when failing.
        last_error: Option<String>,
    },
    /// An operator paused a destination (`paused`) or resumed it.
    Pause {
        /// The destination.
        destination: String,
        /// Whether it is paused (else resumed).
        paused: bool,
    },
    /// A registered call's report did not come by its deadline (`call.overdue`), or came later
    /// (`call.overdue.resolved`, with `reported_at_ms`).
    Overdue {
        /// The call's app.
        app: String,
        /// The call.
        call: String,
        /// When it was registered.
        registered_at_ms: i64,
        /// When its report was due.
        due_at_ms: i64,
        /// When its report came, once it did.
        reported_at_ms: Option<i64>,
    },
    /// A call's recording could not be kept (its fetch is dead).
    RecordingFailed {
        /// The call's app.
        app: String,
        /// The call.
        call: String,
        /// The platform's link.
        link: String,
        /// Why.
        reason: String,
        /// Attempts made, the last included.
        attempts: u32,
        /// The fetch's delivery (`POST /v1/deliveries/{id}/retry` fetches it again).
        delivery: i64,
    },
    /// A destination's backlog passed 80 % of `max_backlog` (`high`) or fell under it again.
    Backlog {
        /// The destination.
        destination: String,
        /// Whether it is high (else normal).
        high: bool,
        /// Pending deliveries.
        pending: u64,
        /// Its `max_backlog`.
        max_backlog: u64,
    },
}

impl Subject {
    /// The event's `type`.
    pub fn kind(&self) -> &'static str {
        let callback = |d: &str| d.starts_with("app:");
        match self {
            Subject::Dead { .. } => "delivery.dead",
            Subject::Health {
                destination,
                failing,
                ..
            } => match (callback(destination), failing) {
                (false, true) => "destination.failing",
                (false, false) => "destination.recovered",
                (true, true) => "app.callback.failing",
                (true, false) => "app.callback.recovered",
            },
            Subject::Pause { paused: true, .. } => "destination.paused",
            Subject::Pause { paused: false, .. } => "destination.resumed",
            Subject::Overdue {
                reported_at_ms: None,
                ..
            } => "call.overdue",
            Subject::Overdue { .. } => "call.overdue.resolved",
            Subject::RecordingFailed { .. } => "recording.failed",
            Subject::Backlog { high: true, .. } => "backlog.high",
            Subject::Backlog { high: false, .. } => "backlog.normal",
        }
    }

    /// The destination it is about ("" for a call).
    pub fn destination(&self) -> &str {
        match self {
            Subject::Overdue { .. } => "",
            Subject::RecordingFailed { .. } => crate::recordings::RECORDINGS,
            Subject::Dead { destination, .. }
            | Subject::Health { destination, .. }
            | Subject::Pause { destination, .. }
            | Subject::Backlog { destination, .. } => destination,
        }
    }

    /// What orders the subject's events: a destination's events go in the order they happened.
    pub fn key(&self) -> String {
        match self {
            Subject::Dead { destination, .. } => format!("dead:{destination}"),
            Subject::Health { destination, .. } => format!("health:{destination}"),
            Subject::Pause { destination, .. } => format!("pause:{destination}"),
            Subject::Overdue { app, call, .. } => format!("call:{app}:{call}"),
            Subject::RecordingFailed { app, call, .. } => format!("recording:{app}:{call}"),
            Subject::Backlog { destination, .. } => format!("backlog:{destination}"),
        }
    }

    /// The subject's own fields.
    fn fields(&self) -> Value {
        match self {
            Subject::Dead {
                destination,
                deliveries,
                total,
                part,
                parts,
            } => json!({
                "destination": destination,
                "count": deliveries.len(),
                "total": total,
                "part": part,
                "parts": parts,
                "deliveries": deliveries.iter().map(dead_json).collect::<Vec<_>>(),
            }),
            Subject::Health {
                destination,
                error_rate,
                last_error,
                ..
            } => {
                let mut v = json!({"destination": destination, "errorRate": error_rate});
                if let Some(app) = destination.strip_prefix("app:") {
                    v["app"] = json!(app);
                }
                if let Some(e) = last_error {
                    v["lastError"] = json!(e);
                }
                v
            }
            Subject::Pause { destination, .. } => {
                let mut v = json!({"destination": destination});
                if let Some(app) = destination.strip_prefix("app:") {
                    v["app"] = json!(app);
                }
                v
            }
            Subject::Overdue {
                app,
                call,
                registered_at_ms,
                due_at_ms,
                reported_at_ms,
            } => {
                let mut v = json!({"app": app, "call": call,
                    "registeredAt": time(*registered_at_ms), "dueAt": time(*due_at_ms)});
                if let Some(at) = reported_at_ms {
                    v["reportedAt"] = json!(time(*at));
                }
                v
            }
            Subject::RecordingFailed {
                app,
                call,
                link,
                reason,
                attempts,
                delivery,
            } => json!({
                "app": app, "call": call, "link": link, "reason": reason, "attempts": attempts,
                "delivery": delivery,
            }),
            Subject::Backlog {
                destination,
                pending,
                max_backlog,
                ..
            } => json!({
                "destination": destination, "pending": pending, "maxBacklog": max_backlog,
            }),
        }
    }
}

fn dead_json(d: &DeadDelivery) -> Value {
    json!({
        "id": d.id, "app": d.app, "call": d.call, "attempts": d.attempts,
        "lastAnswer": d.last_answer, "reason": d.reason,
    })
}

/// A time as the events write it: RFC 3339, UTC, milliseconds.
fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// An operator event with its envelope, as JSON bytes.
pub fn render(subject: &Subject, id: &str, at_ms: i64, node: &str) -> Vec<u8> {
    let at = time(at_ms);
    let mut out = Map::new();
    out.insert("schemaVersion".into(), json!(SCHEMA_VERSION));
    out.insert("type".into(), json!(subject.kind()));
    out.insert("id".into(), json!(id));
    out.insert("at".into(), json!(at));
    out.insert("node".into(), json!(node));
    if let Value::Object(fields) = subject.fields() {
        out.extend(fields);
    }
    serde_json::to_vec(&Value::Object(out)).unwrap_or_default()
}
