//! Log lines on standard error: readable text, or one JSON object a line (`log_format`).
//! RUST_LOG filters them (default `info`).

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// Starts logging; a second call keeps the first's format.
pub fn init(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let lines = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let started = if json {
        // The event's fields at the top level beside timestamp, level and target; the
        // request's span (its request_id) under "span".
        lines
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    } else {
        lines.with_ansi(std::io::stderr().is_terminal()).try_init()
    };
    // Only a second call fails, and the first one's subscriber goes on.
    drop(started);
}
