//! `GET /v1/apps/{appId}/analytics?from=&to=` (JSON) and `…/analytics.csv`: an app's IVR
//! analytics over a span, from the stored counts.

use crate::queries::{
    analytics::{figures, Figures, Span},
    paging,
    retries::now_ms,
};
use crate::{error::ApiError, state::AppState};
use axum::{
    extract::{rejection::PathRejection, Path, RawQuery, State},
    http::header,
    response::IntoResponse,
    Json,
};
use ivrhook_protocol::AppId;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

mod csv;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpanQuery {
    from: Option<String>,
    to: Option<String>,
}

/// The figures with the app and the span they cover.
#[derive(Serialize)]
pub(crate) struct Answer {
    app_id: String,
    from: String,
    to: String,
    #[serde(flatten)]
    figures: Figures,
}

#[utoipa::path(get, path = "/v1/apps/{app_id}/analytics", operation_id = "app_analytics", tag = "analytics",
    description = "An app's IVR over a span: calls, the share completed (status 0) and hung up early (status 1), median and p90 call length; per command position and prompt (its data): times played, share listened to the end, median listened time, share of callers who hung up during it, and for a DTMF prompt the keys entered (top 20, then (other)) and the share with no key; the funnel of the 10 most common command sequences. Counts are kept by hour for two days and by local day (inbound.utc_offset) before: from and to in the answer are the span the counts cover.",
    params(("app_id" = String, Path, description = "a configured app"),
           ("from" = Option<String>, Query, description = "RFC 3339 time or local date (2026-12-01); default: 7 days before to"),
           ("to" = Option<String>, Query, description = "RFC 3339 time or local date, that day included; default: now")),
    responses((status = 200, description = "the figures", body = Object),
              (status = 404, description = "the app is not configured", body = crate::error::ErrorBody), crate::error::Refused))]
pub async fn json(
    State(st): State<Arc<AppState>>,
    app_id: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Result<Json<Answer>, ApiError> {
    Ok(Json(answer(&st, app_id?.0, query).await?))
}

#[utoipa::path(get, path = "/v1/apps/{app_id}/analytics.csv", operation_id = "app_analytics_csv", tag = "analytics",
    description = "The same figures as /v1/apps/{app_id}/analytics, one a line: section, position, prompt, name, value.",
    params(("app_id" = String, Path, description = "a configured app"),
           ("from" = Option<String>, Query, description = "as for the JSON"),
           ("to" = Option<String>, Query, description = "as for the JSON")),
    responses((status = 200, description = "the figures as CSV", body = String, content_type = "text/csv"),
              (status = 404, description = "the app is not configured", body = crate::error::ErrorBody), crate::error::Refused))]
pub async fn csv(
    State(st): State<Arc<AppState>>,
    app_id: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Result<impl IntoResponse, ApiError> {
    let answer = answer(&st, app_id?.0, query).await?;
    // An appId may hold any character but a control one; the file's name keeps the safe ones.
    let safe: String = (answer.app_id.chars())
        .map(
            |c| match c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                true => c,
                false => '_',
            },
        )
        .collect();
    let name = format!("attachment; filename=\"analytics-{safe}.csv\"");
    let headers = [
        (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
        (header::CONTENT_DISPOSITION, name),
    ];
    Ok((headers, csv::lines(&answer)))
}

/// The figures `query` asks for, with the span they cover.
pub(crate) async fn answer(
    st: &AppState,
    app_id: String,
    query: Option<String>,
) -> Result<Answer, ApiError> {
    AppId::try_from(app_id.as_str()).map_err(|e| ApiError::invalid("appId", e.to_string()))?;
    let q: SpanQuery = paging::query(query.as_deref())?;
    let offset = st.config.inbound.decode.offset.fixed();
    let span = Span::parse(q.from.as_deref(), q.to.as_deref(), now_ms(st), offset)?;
    let figures = figures(st, &app_id, &span).await?;
    Ok(Answer {
        app_id,
        from: span.from().to_rfc3339(),
        to: span.to().to_rfc3339(),
        figures,
    })
}
