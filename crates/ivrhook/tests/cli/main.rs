//! The `ivrhook` binary as an operator runs it: real processes, signals, restarts.
#![allow(clippy::unwrap_used)] // a test that unwraps fails with the cause, as it should

mod backup;
mod bench;
mod clients;
mod cluster;
mod crash;
mod deliver;
mod docs;
mod forward_crash;
mod logs;
mod memory;
mod openapi;
mod overdue;
mod packaging;
mod proc;
mod public;
mod recordings;
mod retention;
mod secrets;
mod startup;
mod tail;
mod tls;
mod tools;
mod wal;

/// An HTTP client for the tests.
pub(crate) fn http() -> reqwest::Client {
    http_builder().build().unwrap()
}

/// A client builder, with rustls's crypto provider set first (reqwest is built without one).
pub(crate) fn http_builder() -> reqwest::ClientBuilder {
    ivrhook_engine::use_ring_for_tls();
    reqwest::Client::builder()
}
