//! The server's error enums, each mapped to an HTTP answer here and nowhere else.
//!
//! - [`Refusal`]: why the callback path did not answer `000000`; HTTP 200 with the contract's
//!   JSON body, because the platform reads its verdict from the body (401 with the same body
//!   for a request that is not authenticated).
//! - [`ApiError`]: the `/v1` API's errors, as HTTP statuses with a JSON body.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use ivrhook_protocol::{Answer, ResponseCode};
use ivrhook_store::StoreError;
use serde_json::json;

/// Why a report was not taken; its message is the answer's `msg`.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// `108100`: the body is not a report, naming the field and why.
    #[error("{0}")]
    BadInput(String),
    /// `108101`: the appId is not configured.
    #[error("{0}")]
    UnknownApp(String),
    /// `108105`: the app requires registered calls and this one is not.
    #[error("{0}")]
    UnknownCall(String),
    /// `108102`: this many reports already wait for the writer.
    #[error("queue full: {0} reports are waiting to be stored; retry later")]
    QueueFull(usize),
    /// `108102`: a destination the report goes to has `max_backlog` pending.
    #[error("queue full: {0}; retry later")]
    Backlog(#[source] ivrhook_engine::BacklogFull),
    /// `108104`: the store failed; the report is not kept.
    #[error("internal error: the report was not stored; retry later")]
    Store(#[source] StoreError),
    /// `108102`: the app is over its `rate_limit`.
    #[error("queue full: app {0} is over its rate_limit ({1}); retry later")]
    RateLimited(String, crate::config::RateLimit),
    /// Which check failed stays out of the answer (`auth`).
    #[error("not authenticated")]
    Unauthenticated(crate::auth::Denied),
}

impl Refusal {
    /// The contract's code for it.
    pub fn code(&self) -> ResponseCode {
        match self {
            Refusal::BadInput(_) => ResponseCode::BadInput,
            Refusal::UnknownApp(_) => ResponseCode::UnknownApp,
            Refusal::UnknownCall(_) => ResponseCode::UnknownCall,
            Refusal::QueueFull(_) | Refusal::Backlog(_) | Refusal::RateLimited(..) => {
                ResponseCode::QueueFull
            }
            Refusal::Store(_) | Refusal::Unauthenticated(_) => ResponseCode::OtherError,
        }
    }

    /// The contract's answer: HTTP 200 but for a request that is not authenticated (401).
    pub fn answer(&self) -> Response {
        let status = match self {
            Refusal::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            _ => StatusCode::OK,
        };
        (status, Json(Answer::new(self.code(), self.to_string()))).into_response()
    }
}

/// The contract's answer: always HTTP 200 and JSON.
pub fn answer(code: ResponseCode, msg: impl Into<String>) -> Response {
    (StatusCode::OK, Json(Answer::new(code, msg))).into_response()
}

/// Why an API request failed, mapped to its HTTP status in one place (`status`).
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 401: no token, or not one of this server's.
    #[error("missing or wrong bearer token: send Authorization: Bearer <token>")]
    Unauthorized,
    /// 403: the token lacks the scope, or the request came from another site.
    #[error("{0}")]
    Forbidden(String),
    /// 404.
    #[error("{0}")]
    NotFound(String),
    /// 409: the request does not fit the state (a delivered delivery retried).
    #[error("{0}")]
    Conflict(String),
    /// 405.
    #[error("{method} is not allowed here")]
    MethodNotAllowed {
        /// The method refused.
        method: String,
    },
    /// 422, naming the field.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field, parameter or header.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// 503: the store did not answer.
    #[error("the store is unavailable")]
    Store(#[from] StoreError),
    /// 416: a `Range` outside the recording.
    #[error("Range: the recording has {size} bytes; ask for a range within them")]
    RangeNotSatisfiable {
        /// The recording's size.
        size: u64,
    },
    /// 503: the recordings store did not answer.
    #[error("the recordings store is unavailable: {0}")]
    Recordings(String),
}

impl ApiError {
    /// A 422 naming `field`.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        ApiError::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// axum's own rejections are plain text; they become JSON errors that say what was wrong.
impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(r: axum::extract::rejection::PathRejection) -> Self {
        ApiError::invalid("path", r.body_text())
    }
}

impl From<axum::extract::rejection::BytesRejection> for ApiError {
    fn from(r: axum::extract::rejection::BytesRejection) -> Self {
        ApiError::invalid("body", r.body_text())
    }
}

impl ApiError {
    /// The HTTP status and the JSON error's `kind`; a store failure is logged here, once.
    pub(crate) fn status(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::MethodNotAllowed { .. } => {
                (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
            }
            ApiError::Invalid { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            ApiError::Store(e) => {
                tracing::error!(error = ?e, "API request failed in the store");
                (StatusCode::SERVICE_UNAVAILABLE, "store_unavailable")
            }
            ApiError::RangeNotSatisfiable { .. } => {
                (StatusCode::RANGE_NOT_SATISFIABLE, "range_not_satisfiable")
            }
            ApiError::Recordings(e) => {
                tracing::error!(error = e, "API request failed in the recordings store");
                (StatusCode::SERVICE_UNAVAILABLE, "recordings_unavailable")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, kind) = self.status();
        let field = match &self {
            ApiError::Invalid { field, .. } => Some(field.clone()),
            _ => None,
        };
        let body = json!({"error": {"kind": kind, "field": field, "message": self.to_string()}});
        let mut resp = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                "www-authenticate",
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        resp
    }
}

// The shape of every error body, as `/openapi.json` describes it (`ApiError` writes it).

/// Every error the API answers: `{"error": {"kind", "field", "message"}}`.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorBody {
    error: ErrorDetail,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
struct ErrorDetail {
    /// `unauthorized`, `not_found`, `conflict`, `method_not_allowed`, `invalid`,
    /// `range_not_satisfiable`, `store_unavailable`, `recordings_unavailable`.
    kind: String,
    /// The field or parameter at fault, for `invalid`.
    field: Option<String>,
    message: String,
}

/// The refusals most operations share: no token, bad input, the store down.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // a description for the document; the answers are `ApiError`'s
pub(crate) enum Refused {
    /// admin_token is set and the request does not carry it
    #[response(status = 401)]
    Unauthorized(#[to_schema] ErrorBody),
    /// a parameter or the body is not valid; the error names it
    #[response(status = 422)]
    Invalid(#[to_schema] ErrorBody),
    /// the store is unavailable
    #[response(status = 503)]
    Unavailable(#[to_schema] ErrorBody),
}
