//! Signing in to the dashboard: the admin token, given once, for a session cookie (`HttpOnly`,
//! so no script reads it; `SameSite=Strict`, so no request from another site carries it, which
//! is what keeps the dashboard's actions safe from cross-site requests). Sessions live in the
//! process for 12 hours; a restart signs everyone out.

use crate::{access::allows, config::Scopes, dashboard::page, state::AppState};
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
    /// Session id → when it was opened, and what its token may do.
    open: Mutex<HashMap<String, (Instant, Scopes)>>,
}

impl Sessions {
    /// A new session's id: 128 random bits from the operating system.
    fn open(&self, scopes: Scopes) -> Option<String> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).ok()?;
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.retain(|_, (at, _)| at.elapsed() < LIFETIME);
        open.insert(id.clone(), (Instant::now(), scopes));
        Some(id)
    }

    fn scopes(&self, id: &str) -> Option<Scopes> {
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let (at, scopes) = open.get(id)?;
        (at.elapsed() < LIFETIME).then_some(*scopes)
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

/// The scopes of the live session whose cookie the request carries.
pub(crate) fn signed_in(st: &AppState, headers: &HeaderMap) -> Option<Scopes> {
    session(headers).and_then(|id| st.sessions.scopes(id))
}

/// The scopes of the bearer token the request carries.
pub(crate) fn bearer(st: &AppState, headers: &HeaderMap) -> Option<Scopes> {
    let given = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    st.access.scopes_of(given.strip_prefix("Bearer ")?)
}

/// Dashboard pages: open without tokens; with them, for a signed-in session or a request
/// carrying a token as the API takes it, within its scopes; anyone else gets the sign-in page.
pub(crate) async fn require_session(
    State(st): State<Arc<AppState>>,
    mut req: Request,
    next: Next,
) -> Response {
    if st.access.is_open() {
        req.extensions_mut().insert(Scopes::ALL);
        return next.run(req).await;
    }
    let scopes = bearer(&st, req.headers()).or_else(|| signed_in(&st, req.headers()));
    match scopes {
        Some(s) if allows(s, req.method()) => {
            // The pages offer only the actions the scopes allow.
            req.extensions_mut().insert(s);
            next.run(req).await
        }
        Some(_) => {
            let body = html! { p role="alert" { "This token may read but not operate: nothing was changed." } };
            (StatusCode::FORBIDDEN, page("Not allowed", &st, true, body)).into_response()
        }
        None => (StatusCode::UNAUTHORIZED, sign_in_page(&st, None)).into_response(),
    }
}

fn sign_in_page(st: &AppState, error: Option<&str>) -> Markup {
    let form = html! {
        @if let Some(error) = error { p role="alert" { (error) } }
        p #which {
            "Sign in with the server's " code { "admin_token" } ", or with an API token ("
            code { "[[api_tokens]]" } ", made by " code { "ivrhook token new" } ") that has the "
            code { "read" } " scope; retrying deliveries also needs " code { "operate" } "."
        }
        form method="post" action="/signin" {
            label for="token" { "Token" }
            " "
            input #token type="password" name="token" autocomplete="current-password" required;
            " "
            button #signin type="submit" { "Sign in" }
        }
    };
    page("Sign in", st, false, form)
}

/// `GET /signin`: the form, or the dashboard for one who needs none or is signed in.
pub(crate) async fn sign_in_form(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if st.access.is_open() || signed_in(&st, &headers).is_some() {
        return redirect_home(None);
    }
    sign_in_page(&st, None).into_response()
}

/// `POST /signin` with the form's `token`.
pub(crate) async fn sign_in(State(st): State<Arc<AppState>>, body: Bytes) -> Response {
    if st.access.is_open() {
        return redirect_home(None);
    }
    let given: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let given = given
        .iter()
        .find(|(k, _)| k == "token")
        .map_or("", |(_, v)| v.as_str());
    let Some(scopes) = st.access.scopes_of(given).filter(|s| s.read) else {
        let page = sign_in_page(&st, Some("That is not a token of this server."));
        return (StatusCode::UNAUTHORIZED, page).into_response();
    };
    match st.sessions.open(scopes) {
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
