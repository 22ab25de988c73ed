//! The server over real HTTP on real sockets, with a real SQLite file per test.
#![allow(clippy::unwrap_used)] // a test that unwraps fails with the cause, as it should

mod access;
mod activity;
mod alerts;
mod analytics;
mod api;
mod bodies;
mod browser;
mod codes;
mod dashboard;
mod dashboard_actions;
mod dashboard_analytics;
mod dashboard_calls;
mod dashboard_recording;
mod disk_full;
mod faults;
mod feed;
mod forward_mqtt;
mod forward_nats;
mod forward_rabbitmq;
mod forward_redis;
mod forward_webhook;
mod helpers;
mod inbound_auth;
mod limits;
mod mqtt_broker;
mod nats;
mod outbound;
mod own_postgres;
mod pause;
mod pg_restart;
mod pg_tls;
mod postgres;
mod reach;
mod recordings;
mod variants;

use ivrhook_testkit::sink;

/// An HTTP client for the tests.
pub(crate) fn http() -> reqwest::Client {
    http_builder().build().unwrap()
}

/// A client builder, with rustls's crypto provider set first (reqwest is built without one).
pub(crate) fn http_builder() -> reqwest::ClientBuilder {
    ivrhook_engine::use_ring_for_tls();
    reqwest::Client::builder()
}
