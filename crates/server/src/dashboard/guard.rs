//! Cross-site request guard for the dashboard's actions. The session cookie is
//! `SameSite=Strict`, so another site's form never carries it; but an open dashboard (no
//! `admin_token`) has no cookie to withhold, so every POST must also come from the dashboard's
//! own origin. Browsers say where a request comes from (`Origin`, `Sec-Fetch-Site`) and no
//! page can forge either; a client that sends neither is not a browser a site can steer.

use super::frame::bare;
use axum::{
    extract::Request,
    http::{header, HeaderMap, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use maud::html;

pub(crate) async fn same_origin(req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD) || from_here(req.headers()) {
        return next.run(req).await;
    }
    let body = html! {
        p role="alert" { "Refused: this action was sent from another site. Nothing was changed." }
        p { a href="/" { "Back to the overview" } }
    };
    (StatusCode::FORBIDDEN, bare("Refused", body)).into_response()
}

fn from_here(headers: &HeaderMap) -> bool {
    let get = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if get("sec-fetch-site").is_some_and(|s| s != "same-origin" && s != "none") {
        return false;
    }
    match (get(header::ORIGIN.as_str()), get(header::HOST.as_str())) {
        (None, _) => true,
        (Some(origin), Some(host)) => {
            let authority = origin.split_once("://").map(|(_, a)| a);
            authority.is_some_and(|a| a.eq_ignore_ascii_case(host))
        }
        (Some(_), None) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn only_the_dashboards_own_origin_may_act() {
        let host = ("host", "127.0.0.1:8080");
        assert!(from_here(&headers(&[host])), "no browser headers: curl");
        assert!(from_here(&headers(&[
            host,
            ("origin", "http://127.0.0.1:8080")
        ])));
        assert!(!from_here(&headers(&[
            host,
            ("origin", "http://evil.example")
        ])));
        assert!(!from_here(&headers(&[host, ("origin", "null")])));
        assert!(!from_here(&headers(&[
            host,
            ("sec-fetch-site", "cross-site")
        ])));
        assert!(!from_here(&headers(&[
            host,
            ("sec-fetch-site", "same-site")
        ])));
        assert!(from_here(&headers(&[
            host,
            ("sec-fetch-site", "same-origin")
        ])));
    }
}
