//! `GET /v1/calls/{callId}/recording`: the call's kept recording, with `Range` requests (a
//! player seeks) and its SHA-256 as the `ETag`.

use crate::{
    error::ApiError,
    queries::recordings::{of_call, CallRecording},
    state::AppState,
};
use axum::{
    body::Body,
    extract::{rejection::PathRejection, Path, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use futures_util::TryStreamExt;
use ivrhook_protocol::CallId;
use std::{ops::Range, sync::Arc};

/// The kept file, whole (200) or the bytes a `Range` asks for (206).
#[utoipa::path(get, path = "/v1/calls/{call_id}/recording", operation_id = "call_recording", tag = "calls",
    description = "The call's kept recording (its newest), as stored: Content-Type, Content-Length, ETag (its SHA-256) and one byte range (Range: bytes=…) per request.",
    params(("call_id" = String, Path, description = "the callId"),
           ("Range" = Option<String>, Header, description = "bytes=START-END, bytes=START- or bytes=-SUFFIX")),
    responses((status = 200, description = "the recording", content_type = "audio/wav"),
              (status = 206, description = "the bytes asked for", content_type = "audio/wav"),
              (status = 304, description = "If-None-Match names its ETag"),
              (status = 404, description = "no recording kept for the call (pending, failed, or none)", body = crate::error::ErrorBody),
              (status = 416, description = "the range is outside the recording", body = crate::error::ErrorBody),
              (status = 503, description = "the recordings store or the database is unavailable", body = crate::error::ErrorBody),
              crate::error::Refused))]
pub async fn recording(
    State(st): State<Arc<AppState>>,
    call_id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Path(call_id) = call_id?;
    let call = CallId::try_from(call_id).map_err(|e| ApiError::invalid("callId", e.to_string()))?;
    let reports = st.store.reports_for_call(&call).await?;
    let forwards = st.store.forwards_for_call(&call).await?;
    let found = of_call(&st, call.as_str(), &reports, &forwards).await?;
    let kept = match found {
        Some(CallRecording {
            kept: Some(kept), ..
        }) => kept,
        other => return Err(ApiError::NotFound(not_kept(&call, other.as_ref()))),
    };
    let vault = (st.config.recordings.vault.as_ref())
        .ok_or_else(|| ApiError::Recordings("no recordings store is configured".into()))?;
    let etag = format!("\"{}\"", kept.sha256);
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    let size = u64::try_from(kept.size).unwrap_or(0);
    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        Some(text) => Some(range(text, size)?),
        None => None,
    };
    let object = (vault.read(&kept.key, range.clone()).await)
        .map_err(|e| ApiError::Recordings(format!("reading {}: {e}", kept.key)))?;
    let body = Body::from_stream(object.into_stream().map_err(std::io::Error::other));
    let mut response = Response::new(body);
    let h = response.headers_mut();
    let value = |s: String| HeaderValue::from_str(&s).unwrap_or(HeaderValue::from_static(""));
    h.insert(header::CONTENT_TYPE, value(kept.content_type.clone()));
    h.insert(header::ETAG, value(etag));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    let length = match &range {
        Some(r) => {
            *response.status_mut() = StatusCode::PARTIAL_CONTENT;
            let last = r.end - 1;
            let content_range = value(format!("bytes {}-{last}/{size}", r.start));
            response
                .headers_mut()
                .insert(header::CONTENT_RANGE, content_range);
            r.end - r.start
        }
        None => size,
    };
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, length.into());
    Ok(response)
}

fn not_kept(call: &CallId, found: Option<&CallRecording>) -> String {
    match found.map(|r| r.state) {
        None => format!("callId: {call} has no recording"),
        Some("pending") => format!("callId: {call}'s recording is not kept yet (pending)"),
        Some("failed") => format!("callId: {call}'s recording could not be kept (failed)"),
        Some(_) => {
            format!("callId: {call}'s recording is not kept: its app does not keep recordings")
        }
    }
}

/// One byte range of `size` bytes (`bytes=a-b`, `bytes=a-`, `bytes=-n`), as a half-open range.
fn range(text: &str, size: u64) -> Result<Range<u64>, ApiError> {
    let unsatisfiable = || ApiError::RangeNotSatisfiable { size };
    let spec = (text.trim().strip_prefix("bytes="))
        .filter(|s| !s.contains(','))
        .ok_or_else(|| {
            ApiError::invalid(
                "Range",
                format!("{text:?} is not one range like bytes=0-1023"),
            )
        })?;
    let (start, end) = spec.split_once('-').ok_or_else(unsatisfiable)?;
    let number = |s: &str| s.trim().parse::<u64>().map_err(|_| unsatisfiable());
    let r = match (start.trim().is_empty(), end.trim().is_empty()) {
        (true, false) => size.saturating_sub(number(end)?)..size,
        (false, true) => number(start)?..size,
        (false, false) => number(start)?..(number(end)? + 1).min(size),
        (true, true) => return Err(unsatisfiable()),
    };
    match r.start < r.end {
        true => Ok(r),
        false => Err(unsatisfiable()),
    }
}

#[cfg(test)]
mod tests {
    use super::range;

    #[test]
    fn ranges_are_read_as_rfc_9110_writes_them() {
        assert_eq!(range("bytes=0-9", 100).unwrap(), 0..10);
        assert_eq!(range("bytes=90-", 100).unwrap(), 90..100);
        assert_eq!(range("bytes=-10", 100).unwrap(), 90..100);
        assert_eq!(range("bytes=95-200", 100).unwrap(), 95..100);
        for bad in ["bytes=100-", "bytes=5-4", "bytes=-0", "bytes=x-1"] {
            assert!(range(bad, 100).is_err(), "{bad}");
        }
        assert!(range("bytes=0-1,5-6", 100).is_err(), "one range only");
    }
}
