//! The configuration as both faces show it: each app and destination as loaded, with no
//! credential (URL passwords and query strings, secrets and header values are left out), and
//! each destination's state on this node.

use super::views::time;
use crate::{config::App, state::AppState};
use ivrhook_engine::{
    route::{Keys, Route},
    DestinationSettings,
};
use serde_json::{json, Value};

/// An app as shown.
pub(crate) fn app_json(st: &AppState, app: &App) -> Value {
    json!({
        "id": app.id,
        "requireKnownCalls": app.require_known_calls,
        "callback": app.delivery.as_ref().map(|d| destination_json(st, d)),
    })
}

/// A destination as shown, with its state on this node.
pub(crate) fn destination_json(st: &AppState, d: &DestinationSettings) -> Value {
    let mut shown = d.kind.describe();
    let delays: Vec<String> = d
        .schedule
        .delays()
        .iter()
        .map(|t| humantime::format_duration(*t).to_string())
        .collect();
    shown["name"] = json!(d.name);
    shown["timeout"] = json!(humantime::format_duration(d.timeout).to_string());
    shown["maxInFlight"] = json!(d.max_in_flight);
    shown["retrySchedule"] = json!(delays);
    shown["ordered"] = json!(d.ordered);
    shown["maxBacklog"] = json!(d.max_backlog);
    shown["allowPrivate"] = json!(d.reach == ivrhook_engine::kinds::Reach::Anywhere);
    shown["route"] = d.route.as_ref().map_or(Value::Null, route_json);
    let live = st.engine.as_ref().and_then(|e| e.live(&d.name));
    shown["now"] = live.map_or(Value::Null, |l| {
        json!({
            "delivering": l.delivering,
            "inFlight": l.active,
            "breaker": format!("{:?}", l.breaker).to_lowercase(),
            "breakerUntil": l.reopens_at_ms.map_or(Value::Null, time),
            "backlog": l.backlog,
            "paused": l.paused_since_ms.is_some(),
            "pausedSince": l.paused_since_ms.map_or(Value::Null, time),
        })
    });
    if let Some(types) = &d.alerts {
        shown["alerts"] = json!({"types": types.patterns()});
    }
    shown
}

fn route_json(r: &Route) -> Value {
    let mut apps: Option<Vec<String>> =
        (r.apps.as_ref()).map(|a| a.iter().map(|id| id.to_string()).collect());
    if let Some(apps) = &mut apps {
        apps.sort();
    }
    let f = &r.filter;
    json!({
        "apps": apps,
        "filter": {
            "status": f.status.map(ivrhook_protocol::forward::status_name),
            "event": f.event,
            "dtmf": f.dtmf.as_ref().map(|k| match k {
                Keys::Any => "*".to_owned(),
                Keys::Exactly(keys) => keys.clone(),
            }),
            "hasRecording": f.has_recording,
        },
    })
}
