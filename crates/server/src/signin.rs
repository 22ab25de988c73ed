//! Signing in to the dashboard: the admin token, given once, for a session cookie (`HttpOnly`,
//! so no script reads it; `SameSite=Strict`, so no request from another site carries it, which
//! is what keeps the dashboard's actions safe from cross-site requests). Sessions live in the
//! process for 12 hours; a restart signs everyone out.

use crate::{api::constant_time_eq, dashboard::page, state::AppState};
use axum::{
    body::Bytes,
    extract::{Request, State},
    http::{header, HeaderMap, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use maud::{html, Markup};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

const COOKIE: &str = "ivrhook_session";
const LIFETIME: Duration = Duration::from_secs(12 * 3600);

#[derive(Debug, Default)]
pub(crate) struct Sessions {
    open: Mutex<HashMap<String, Instant>>,
}

impl Sessions {
    /// A new session's id: 128 random bits from the operating system.
    fn open(&self) -> Option<String> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).ok()?;
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.retain(|_, at| at.elapsed() < LIFETIME);
        open.insert(id.clone(), Instant::now());
        Some(id)
    }

    fn valid(&self, id: &str) -> bool {
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.get(id).is_some_and(|at| at.elapsed() < LIFETIME)
    }

    fn close(&self, id: &str) {
        self.open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
    }
}

fn session(headers: &HeaderMap) -> Option<&str> {
    (headers.get_all(header::COOKIE).iter())
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(COOKIE)?.strip_prefix('='))
}

/// Whether the request carries a live session's cookie.
pub(crate) fn signed_in(st: &AppState, headers: &HeaderMap) -> bool {
    session(headers).is_some_and(|id| st.sessions.valid(id))
}

/// Dashboard pages: open without `admin_token`; with one, for a signed-in session or a
/// request carrying the token as the API takes it; anyone else gets the sign-in page.
pub(crate) async fn require_session(
    State(st): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    let Some(token) = &st.config.admin_token else {
        return next.run(req).await;
    };
    let bearer = (req.headers().get(header::AUTHORIZATION))
        .and_then(|v| v.to_str().ok()?.strip_prefix("Bearer "))
        .is_some_and(|given| constant_time_eq(given.as_bytes(), token.expose().as_bytes()));
    if bearer || signed_in(&st, req.headers()) {
        return next.run(req).await;
    }
    (StatusCode::UNAUTHORIZED, sign_in_page(&st, None)).into_response()
}

fn sign_in_page(st: &AppState, error: Option<&str>) -> Markup {
    let form = html! {
        @if let Some(error) = error { p role="alert" { (error) } }
        form method="post" action="/signin" {
            label for="token" { "Admin token" }
            " "
            input #token type="password" name="token" autocomplete="current-password" required;
            " "
            button #signin type="submit" { "Sign in" }
        }
    };
    page("Sign in", st, false, form)
}

/// `POST /signin` with the form's `token`.
pub(crate) async fn sign_in(State(st): State<Arc<AppState>>, body: Bytes) -> Response {
    let Some(token) = &st.config.admin_token else {
        return redirect_home(None);
    };
    let given: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let given = given
        .iter()
        .find(|(k, _)| k == "token")
        .map_or("", |(_, v)| v.as_str());
    if !constant_time_eq(given.as_bytes(), token.expose().as_bytes()) {
        let page = sign_in_page(&st, Some("That is not the admin token."));
        return (StatusCode::UNAUTHORIZED, page).into_response();
    }
    match st.sessions.open() {
        Some(id) => redirect_home(Some(format!(
            "{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
            LIFETIME.as_secs()
        ))),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "no randomness for a session",
        )
            .into_response(),
    }
}

/// `POST /signout`.
pub(crate) async fn sign_out(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Some(id) = session(&headers) {
        st.sessions.close(id);
    }
    let expired = format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    redirect_home(Some(expired))
}

fn redirect_home(cookie: Option<String>) -> Response {
    let mut resp = (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response();
    if let Some(value) = cookie.and_then(|c| c.parse().ok()) {
        resp.headers_mut().insert(header::SET_COOKIE, value);
    }
    resp
}
