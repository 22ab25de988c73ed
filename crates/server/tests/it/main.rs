//! The server over real HTTP on real sockets, with a real SQLite file per test.

mod api;
mod codes;
mod helpers;
mod variants;
