//! The `ivrhook` binary as an operator runs it: real processes, signals, restarts.
#![allow(clippy::unwrap_used)] // a test that unwraps fails with the cause, as it should

mod backup;
mod bench;
mod clients;
mod cluster;
mod crash;
mod deliver;
mod forward_crash;
mod logs;
mod memory;
mod openapi;
mod packaging;
mod proc;
mod public;
mod readme;
mod retention;
mod secrets;
mod startup;
mod tail;
mod tls;
mod tools;
mod wal;
