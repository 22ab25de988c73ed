//! What the commands that talk to a running ivrhook say when they cannot reach it.

/// "could not reach ivrhook at URL: connection refused", the root cause first, and where the
/// address comes from.
pub fn unreachable(server: &str, e: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let why = if e.is_builder() && !server.contains("://") {
        format!("{server:?} has no scheme: did you mean http://{server}?")
    } else {
        cause.to_string()
    };
    format!(
        "could not reach ivrhook at {server}: {why} (the address comes from --server or \
         IVRHOOK_SERVER)"
    )
}
