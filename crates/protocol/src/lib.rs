//! The `multrpt` callback contract (see `spec/protocol.md`), as pure code: no I/O.
//!
//! Everything that crosses the wire is parsed here, once, into domain types; the rest of
//! ivrhook only ever sees values that are already valid.
//!
//! - `codes`: the six response codes and the JSON answer the receiver sends.
//! - `ids`: `AppId` and `CallId`, validated identifiers.
//! - `time`: 17-digit `yyyyMMddHHmmssSSS` timestamps and the platform's UTC offset.
//! - `report`: the decoded report, its commands and hang-up notice.
//! - `decode`: tolerant (and optionally strict) decoding of request bodies, with warnings.
//! - `encode`: the report back to JSON, for the sender side.
//! - `forward`: the stable decoded form a received report is forwarded in.
//! - `signature`: Standard Webhooks signing secrets and signatures.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod codes;
pub mod decode;
pub mod encode;
pub mod forward;
pub mod ids;
pub mod report;
pub mod signature;
pub mod time;

pub use codes::{Answer, ResponseCode};
pub use decode::{decode, DecodeError, DecodeOptions, Decoded, Warning};
pub use ids::{AppId, CallId, IdError};
pub use report::{CallStatus, Command, Entry, Hangup, HangupNotice, Report};
pub use signature::SigningSecret;
pub use time::{Timestamp, UtcOffset};
