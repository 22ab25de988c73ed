//! The `ivrhook` command's tools beyond `serve`: playing the voice platform against any
//! receiver, checking a receiver against the contract, and measuring this machine.
//!
//! - `calls`: realistic IVR calls from a seed (call ids, command lists, hang-ups).
//! - `simulate`: `ivrhook simulate`, traffic at a rate and concurrency with a summary;
//!   `flow`: the IVR menu tree its calls may walk (`--ivr-flow`).
//! - `check`: `ivrhook check`, the contract's cases against a receiver, as a table.
//! - `bench`: `ivrhook bench receive|deliver`, the machine's figures for both paths.
//! - `stats`: latency percentiles and the summary tables.
//! - `tail`: `ivrhook tail`, new reports followed live.
//! - `net`: what a command says when the server cannot be reached.
//! - `recording_server`: the recordings `simulate --recordings` serves.
#![forbid(unsafe_code)]

pub mod bench;
pub mod calls;
pub mod check;
pub mod flow;
pub mod net;
pub mod recording_server;
pub mod simulate;
pub mod stats;
pub mod tail;
