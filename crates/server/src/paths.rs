//! The paths ivrhook serves itself, in one place: the routers are built from them and
//! `inbound.path` is checked against them, so the two cannot disagree.

/// The JSON API; every route of `api::router` is below it (a test reads them from the
/// OpenAPI document).
pub const API: &str = "/v1";
/// Health: 200 when the store answers.
pub const HEALTHZ: &str = "/healthz";
/// Prometheus metrics.
pub const METRICS: &str = "/metrics";
/// The OpenAPI document.
pub const OPENAPI: &str = "/openapi.json";
/// The API's page.
pub const DOCS: &str = "/docs";
/// The dashboard's calls.
pub const CALLS: &str = "/calls";
/// The dashboard's deliveries.
pub const DELIVERIES: &str = "/deliveries";
/// The dashboard's analytics.
pub const ANALYTICS: &str = "/analytics";
/// The dashboard's destinations.
pub const DESTINATIONS: &str = "/destinations";
/// The dashboard's raw bodies of reports.
pub const REPORTS: &str = "/reports";
/// The overview's live updates.
pub const OVERVIEW: &str = "/overview";
/// The dashboard's sign-in page.
pub const SIGNIN: &str = "/signin";
/// Signing out of the dashboard.
pub const SIGNOUT: &str = "/signout";

/// Every path above: `inbound.path` may be none of them, nor below one (nor `/`, the
/// dashboard's overview).
pub const RESERVED: [&str; 13] = [
    API,
    ANALYTICS,
    HEALTHZ,
    METRICS,
    OPENAPI,
    DOCS,
    CALLS,
    DELIVERIES,
    DESTINATIONS,
    REPORTS,
    OVERVIEW,
    SIGNIN,
    SIGNOUT,
];

/// `path` below `prefix`: `below(CALLS, "{call_id}")` is `/calls/{call_id}`.
pub fn below(prefix: &str, rest: &str) -> String {
    format!("{prefix}/{rest}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The API's routes are documented from the same handlers: each one is below `/v1`, one
    /// of the paths above, or the default callback path.
    #[test]
    fn every_documented_path_is_reserved_or_the_callback() {
        let doc = crate::api::document();
        assert!(!doc.paths.paths.is_empty());
        for path in doc.paths.paths.keys() {
            let reserved = RESERVED
                .iter()
                .any(|r| path == r || path.starts_with(&below(r, "")));
            assert!(
                reserved || path == "/callback",
                "{path} is not in paths::RESERVED"
            );
        }
    }
}
