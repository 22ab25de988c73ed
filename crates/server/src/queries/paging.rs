//! Query strings: `after` and `limit`, shared by the listing endpoints, and the one way every
//! endpoint reads its parameters (an unknown one is refused by name, never ignored).

use crate::error::ApiError;
use serde::de::DeserializeOwned;

/// The query string as `T` (whose fields are the endpoint's parameters, with
/// `deny_unknown_fields`): a parameter it does not know is a 422 naming it, so that a filter
/// this endpoint lacks is not silently ignored.
pub fn query<T: DeserializeOwned>(raw: Option<&str>) -> Result<T, ApiError> {
    serde_urlencoded::from_str(raw.unwrap_or("")).map_err(|e| {
        let text = e.to_string();
        match text
            .strip_prefix("unknown field `")
            .and_then(|r| r.split_once('`'))
        {
            Some((name, known)) => ApiError::invalid(
                name,
                format!(
                    "is not a query parameter of this endpoint ({})",
                    known.trim_start_matches(", ")
                ),
            ),
            None => ApiError::invalid("query", text),
        }
    })
}

const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 1000;

#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub after: i64,
    pub limit: u32,
}

impl Page {
    pub fn parse(after: Option<&str>, limit: Option<&str>) -> Result<Page, ApiError> {
        let after = match after {
            None | Some("") => 0,
            Some(s) => s.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                ApiError::invalid("after", format!("{s:?} is not a cursor returned as next"))
            })?,
        };
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(s) => s
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    ApiError::invalid(
                        "limit",
                        format!("{s:?} must be a whole number from 1 to {MAX_LIMIT}"),
                    )
                })?,
        };
        Ok(Page { after, limit })
    }

    /// The feed's cursor for the next page: the last id seen, or where this page started.
    /// Never `null`: reports keep arriving, so a reader asks again from there.
    pub fn next(&self, last: Option<i64>) -> String {
        last.unwrap_or(self.after).to_string()
    }

    /// A listing's cursor for the next page: the last id of a full page, `None` when this
    /// page is shorter than `limit` (nothing more now). Every listing (`/v1/calls`,
    /// `/v1/deliveries`, the dashboard's) ends this way.
    pub fn listing_next(&self, len: usize, last: Option<i64>) -> Option<i64> {
        (len == self.limit as usize).then_some(last).flatten()
    }
}

/// A path segment (a callId may hold `/`, `?`, `#` or `%`): all but RFC 3986's unreserved
/// characters encoded.
pub(crate) fn path_segment(s: &str) -> String {
    const RESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, RESERVED).to_string()
}
