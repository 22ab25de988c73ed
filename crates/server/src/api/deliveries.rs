//! Seeing and fixing deliveries: listing, one with its attempts, retry now, bulk retry.

use super::outbound::delivery_response;
use crate::queries::{
    paging::{self, Page},
    retries::{self, retry_between, retry_now},
    views::attempt_json,
    waiting::{deliveries_json, explained},
};
use crate::{error::ApiError, state::AppState};
use axum::{
    body::Bytes,
    extract::{
        rejection::{BytesRejection, PathRejection},
        Path, RawQuery, State,
    },
    http::StatusCode,
    Json,
};
use ivrhook_engine::callback_name;
use ivrhook_protocol::AppId;
use ivrhook_store::outbox::{DeliveryFilter, DeliveryState, RetryStates};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    app: Option<String>,
    destination: Option<String>,
    state: Option<String>,
    after: Option<String>,
    limit: Option<String>,
}

/// `GET /v1/deliveries?app=&destination=&state=pending|delivered|dead&after=&limit=`
#[utoipa::path(get, path = "/v1/deliveries", operation_id = "list_deliveries", tag = "deliveries",
    description = "Deliveries to app callbacks and forward destinations, oldest first.",
    params(("app" = Option<String>, Query, description = "only this app's"),
           ("destination" = Option<String>, Query, description = "only this destination's"),
           ("state" = Option<String>, Query, description = "pending, delivered or dead"),
           ("after" = Option<String>, Query, description = "the previous page's next"),
           ("limit" = Option<u32>, Query, minimum = 1, maximum = 1000, description = "deliveries a page (100)")),
    responses((status = 200, description = "a page of deliveries", body = Object), crate::error::Refused))]
pub async fn list(
    State(st): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let q: ListQuery = paging::query(query.as_deref())?;
    let page = Page::parse(q.after.as_deref(), q.limit.as_deref())?;
    let state = match q.state.as_deref() {
        None | Some("") => None,
        Some(s) => Some(DeliveryState::parse(s).ok_or_else(|| {
            ApiError::invalid("state", format!("{s:?} must be pending, delivered or dead"))
        })?),
    };
    let filter = DeliveryFilter {
        app_id: q.app.filter(|a| !a.is_empty()),
        destination: q.destination.filter(|d| !d.is_empty()),
        state,
        after: page.after,
        limit: page.limit,
    };
    let rows = st.store.deliveries(filter).await?;
    let next = (page.listing_next(rows.len(), rows.last().map(|d| d.id))).map(|n| n.to_string());
    let deliveries = deliveries_json(&st, &rows).await?;
    Ok(Json(json!({"deliveries": deliveries, "next": next})))
}

fn delivery_id(path: Result<Path<String>, PathRejection>) -> Result<i64, ApiError> {
    let Path(id) = path?;
    id.parse()
        .map_err(|_| ApiError::invalid("id", format!("{id:?} is not a delivery id")))
}

/// `GET /v1/deliveries/{id}`: the delivery and every attempt.
#[utoipa::path(get, path = "/v1/deliveries/{id}", operation_id = "get_delivery", tag = "deliveries",
    description = "A delivery with every attempt; a pending one says why it waits.",
    params(("id" = String, Path, description = "the delivery's id")),
    responses((status = 200, description = "the delivery", body = Object),
              (status = 404, description = "no such delivery", body = crate::error::ErrorBody), crate::error::Refused))]
pub async fn get(
    State(st): State<Arc<AppState>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = delivery_id(id)?;
    let (delivery, attempts) = st
        .store
        .delivery(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no delivery {id}")))?;
    let attempts: Vec<Value> = attempts.iter().map(attempt_json).collect();
    let delivery = explained(&st, &delivery).await?;
    Ok(Json(json!({"delivery": delivery, "attempts": attempts})))
}

/// `POST /v1/deliveries/{id}/retry`: a dead or pending delivery goes now.
#[utoipa::path(post, path = "/v1/deliveries/{id}/retry", operation_id = "retry_delivery", tag = "deliveries",
    description = "A dead or pending delivery goes now (a dead one gets a fresh schedule).",
    params(("id" = String, Path, description = "the delivery's id")),
    responses((status = 202, description = "it goes now", body = Object),
              (status = 409, description = "it is delivered already", body = crate::error::ErrorBody),
              (status = 404, description = "no such delivery", body = crate::error::ErrorBody), crate::error::Refused))]
pub async fn retry(
    State(st): State<Arc<AppState>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = delivery_id(id)?;
    let d = retry_now(&st, id).await?;
    Ok((StatusCode::ACCEPTED, delivery_response(&d)))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RangeBody {
    from: Option<String>,
    to: Option<String>,
    /// `dead` or `pending`; both when absent.
    state: Option<String>,
    /// Count them and send nothing.
    #[serde(default)]
    dry_run: bool,
}

/// `POST /v1/apps/{appId}/deliveries/retry` with `{"from": RFC 3339, "to": RFC 3339}` (both
/// optional): every dead or pending delivery to the app's callback URL created in `[from, to)`
/// goes now.
#[utoipa::path(post, path = "/v1/apps/{app_id}/deliveries/retry", operation_id = "retry_app_deliveries", tag = "deliveries",
    description = "The app's callback deliveries, dead and pending, created in [from, to) go now.",
    params(("app_id" = String, Path, description = "an app with a callback_url")),
    request_body(content = Object, description = "{\"from\": RFC 3339, \"to\": RFC 3339, \"state\": \"dead\" or \"pending\", \"dryRun\": true}, each optional: dryRun counts them and sends nothing (answering wouldRetry)", content_type = "application/json"),
    responses((status = 200, description = "how many go now", body = Object),
              (status = 404, description = "the app has no callback_url", body = crate::error::ErrorBody), crate::error::Refused))]
pub async fn retry_app_range(
    State(st): State<Arc<AppState>>,
    app: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let (Path(app), body) = (app?, body?);
    let app = AppId::try_from(app).map_err(|e| ApiError::invalid("appId", e.to_string()))?;
    let name = callback_name(&app);
    let missing = || super::outbound::without_callback(&st, &app);
    let mut answer = retry_range(&st, &name, &body, missing).await?;
    answer["appId"] = json!(app);
    Ok(Json(answer))
}

/// `POST /v1/destinations/{name}/deliveries/retry`: the same for any destination.
#[utoipa::path(post, path = "/v1/destinations/{name}/deliveries/retry", operation_id = "retry_destination_deliveries", tag = "deliveries",
    description = "The destination's deliveries, dead and pending, created in [from, to) go now.",
    params(("name" = String, Path, description = "a destination's name")),
    request_body(content = Object, description = "{\"from\": RFC 3339, \"to\": RFC 3339, \"state\": \"dead\" or \"pending\", \"dryRun\": true}, each optional: dryRun counts them and sends nothing (answering wouldRetry)", content_type = "application/json"),
    responses((status = 200, description = "how many go now", body = Object),
              (status = 404, description = "no such destination", body = crate::error::ErrorBody), crate::error::Refused))]
pub async fn retry_destination_range(
    State(st): State<Arc<AppState>>,
    name: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let (Path(name), body) = (name?, body?);
    let missing = || ApiError::NotFound(format!("destination: {name:?} is not configured"));
    Ok(Json(retry_range(&st, &name, &body, missing).await?))
}

/// `{"destination", "retried"}`, or with `dryRun` `{"destination", "dryRun", "wouldRetry"}`.
async fn retry_range(
    st: &AppState,
    name: &str,
    body: &[u8],
    missing: impl FnOnce() -> ApiError,
) -> Result<Value, ApiError> {
    let known = st
        .engine
        .as_ref()
        .is_some_and(|e| e.destination(name).is_some());
    known.then_some(()).ok_or_else(missing)?;
    let asked: RangeBody = match body.is_empty() {
        true => RangeBody::default(),
        false => {
            serde_json::from_slice(body).map_err(|e| ApiError::invalid("body", e.to_string()))?
        }
    };
    let states = match asked.state.as_deref() {
        None => RetryStates::DeadAndPending,
        Some("dead") => RetryStates::Dead,
        Some("pending") => RetryStates::Pending,
        Some(other) => {
            let reason = format!("{other:?} must be \"dead\" or \"pending\" (or absent: both)");
            return Err(ApiError::invalid("state", reason));
        }
    };
    let from = parse_time("from", asked.from.as_deref())?;
    let to = parse_time("to", asked.to.as_deref())?;
    let range = retries::range(st, name, (from, to), states)?;
    if asked.dry_run {
        let n = st.store.count_range(&range).await?;
        return Ok(json!({"destination": name, "dryRun": true, "wouldRetry": n}));
    }
    let n = retry_between(st, &range).await?;
    Ok(json!({"destination": name, "retried": n}))
}

fn parse_time(field: &str, text: Option<&str>) -> Result<Option<i64>, ApiError> {
    text.map(|t| {
        chrono::DateTime::parse_from_rfc3339(t)
            .map(|d| d.timestamp_millis())
            .map_err(|e| ApiError::invalid(field, format!("{t:?} is not an RFC 3339 time: {e}")))
    })
    .transpose()
}
