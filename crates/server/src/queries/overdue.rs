//! Registered calls whose report did not come by its deadline, as both faces list them, and a
//! call's deadline as its timeline shows it.

use super::{paging::Page, views::time};
use crate::{error::ApiError, state::AppState};
use ivrhook_protocol::AppId;
use ivrhook_store::deadlines::CallDeadline;
use serde_json::{json, Value};

/// A page of overdue calls after `after` (a page's `next`: `<overdueAt ms>:<callId>`).
pub(crate) async fn page(
    st: &AppState,
    app: Option<&str>,
    after: Option<&str>,
    limit: Option<&str>,
) -> Result<(Vec<CallDeadline>, Option<String>), ApiError> {
    let limit = Page::parse(None, limit)?.limit;
    let app = (app.filter(|a| !a.is_empty()))
        .map(|a| AppId::try_from(a).map_err(|e| ApiError::invalid("app", e.to_string())))
        .transpose()?;
    let after = match after.filter(|a| !a.is_empty()) {
        None => None,
        Some(text) => Some(cursor(text)?),
    };
    let calls = st.store.overdue_calls(app.as_ref(), after, limit).await?;
    let next = (calls.len() == limit as usize)
        .then(|| calls.last())
        .flatten()
        .map(|d| format!("{}:{}", d.overdue_at_ms.unwrap_or_default(), d.call_id));
    Ok((calls, next))
}

fn cursor(text: &str) -> Result<(i64, String), ApiError> {
    let bad = || {
        ApiError::invalid(
            "after",
            format!("{text:?} is not a cursor returned as next"),
        )
    };
    let (ms, call) = text.split_once(':').ok_or_else(bad)?;
    Ok((ms.parse().map_err(|_| bad())?, call.to_owned()))
}

/// A call's deadline as the API shows it: `state` is `waiting`, `due`, `on_time`, `overdue`
/// (no report yet) or `late` (it came after the call was overdue).
pub(crate) fn deadline_json(d: &CallDeadline, now_ms: i64) -> Value {
    let at = |ms: Option<i64>| ms.map_or(Value::Null, time);
    json!({
        "appId": d.app_id, "callId": d.call_id, "state": d.state(now_ms),
        "registeredAt": time(d.registered_at_ms), "dueAt": time(d.report_due_at_ms),
        "overdueAt": at(d.overdue_at_ms), "reportedAt": at(d.reported_at_ms),
    })
}
