//! The engine against a real SQLite store and a real fake receiver over loopback HTTP, with
//! tokio's clock paused: retry schedules run in logical time, nothing sleeps for real.
#![allow(clippy::unwrap_used)] // a test that unwraps fails with the cause, as it should

mod accept;
mod gate;
mod harness;
mod isolation;
mod properties;
mod retries;
