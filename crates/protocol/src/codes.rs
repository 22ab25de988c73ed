//! The response codes a receiver answers, and the answer's JSON shape.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The verdict a receiver puts in the `code` field of its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResponseCode {
    /// `000000`: accepted.
    Success,
    /// `108100`: the body could not be parsed or a required field is wrong.
    BadInput,
    /// `108101`: the appId is not known to the receiver.
    UnknownApp,
    /// `108102`: the receiver's queue is full; retry later.
    QueueFull,
    /// `108104`: any other failure on the receiver's side.
    OtherError,
    /// `108105`: the callId is not known (yet) to the receiver.
    UnknownCall,
}

impl ResponseCode {
    /// Every code, in the order the spec lists them.
    pub const ALL: [ResponseCode; 6] = [
        Self::Success,
        Self::BadInput,
        Self::UnknownApp,
        Self::QueueFull,
        Self::OtherError,
        Self::UnknownCall,
    ];

    /// The wire form ivrhook answers with.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "000000",
            Self::BadInput => "108100",
            Self::UnknownApp => "108101",
            Self::QueueFull => "108102",
            Self::OtherError => "108104",
            Self::UnknownCall => "108105",
        }
    }

    /// Reads a code as a receiver may write it. The spec's own example answers `"0"` for
    /// success, so a sender must take it as `000000`.
    pub fn parse(code: &str) -> Option<Self> {
        match code.trim() {
            "000000" | "0" => Some(Self::Success),
            "108100" => Some(Self::BadInput),
            "108101" => Some(Self::UnknownApp),
            "108102" => Some(Self::QueueFull),
            "108104" => Some(Self::OtherError),
            "108105" => Some(Self::UnknownCall),
            _ => None,
        }
    }
}

impl fmt::Display for ResponseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The JSON body of a receiver's answer: `{"code": "...", "msg": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// The code as the contract writes it, a string: `000000`.
    pub code: String,
    /// Why, for people; the platform reads only the code.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub msg: String,
}

impl Answer {
    /// The answer with `code` and `msg`.
    pub fn new(code: ResponseCode, msg: impl Into<String>) -> Self {
        Answer {
            code: code.as_str().to_owned(),
            msg: msg.into(),
        }
    }

    /// The code, if it is one of the six (or the spec's `"0"`).
    pub fn response_code(&self) -> Option<ResponseCode> {
        ResponseCode::parse(&self.code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_its_wire_form() {
        for code in ResponseCode::ALL {
            assert_eq!(ResponseCode::parse(code.as_str()), Some(code));
        }
    }

    #[test]
    fn the_spec_example_zero_is_success() {
        let answer: Answer = serde_json::from_str(r#"{"code": "0", "msg": "success"}"#).unwrap();
        assert_eq!(answer.response_code(), Some(ResponseCode::Success));
        assert_eq!(ResponseCode::parse("108103"), None);
    }
}
