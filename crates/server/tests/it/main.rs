//! The server over real HTTP on real sockets, with a real SQLite file per test.
#![allow(clippy::unwrap_used)] // a test that unwraps fails with the cause, as it should

mod api;
mod codes;
mod forward_webhook;
mod helpers;
mod outbound;
mod postgres;
mod sink;
mod variants;
