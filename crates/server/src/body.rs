//! A report's body: read up to `inbound.max_body_bytes`, decoded when it comes gzip- or
//! deflate-encoded (the limit holds for the decoded size), and, when it is refused, read to
//! its end and dropped before the answer goes out.
//!
//! Many HTTP clients (Python's `http.client` among them) write a whole request before reading
//! anything: an answer sent while such a client is still writing is lost when the connection
//! is reset, and the platform retries a report it can never deliver without learning why.
//! Reading the rest also keeps the connection usable for the next request. What is dropped
//! is bounded: past `max_body_bytes` + [`DISCARD_BYTES`], or once `inbound.body_timeout` has
//! passed, the answer goes out at once and the connection is closed.

use crate::{config::Inbound, error::Refusal};
use axum::{
    body::{Body, Bytes},
    http::{
        header::{CONTENT_ENCODING, CONTENT_LENGTH, EXPECT},
        HeaderMap,
    },
};
use futures_util::StreamExt;
use std::io::Read;

/// How much of a refused body is read and dropped past `max_body_bytes`.
pub const DISCARD_BYTES: u64 = 64 << 20;

/// A body that is refused, and whether the connection must close (its rest was not read).
#[derive(Debug)]
pub struct Refused {
    pub refusal: Refusal,
    pub close: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Identity,
    Gzip,
    Deflate,
}

/// The body, decoded, or why it is refused.
pub(crate) async fn read(
    inbound: &Inbound,
    headers: &HeaderMap,
    body: Body,
) -> Result<Bytes, Refused> {
    let limit = inbound.max_body_bytes;
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let waits_to_send = headers
        .get(EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    if declared
        .is_some_and(|n| n > limit as u64 && (waits_to_send || n > limit as u64 + DISCARD_BYTES))
    {
        // The client has not sent it yet (it waits for `100 Continue`), or it is too much to drop.
        return Err(refused(too_large(limit, ""), true));
    }
    let encoding = encoding(headers);
    let timeout = inbound.body_timeout;
    // Room for a declared length within the limit at once, so that no copy outgrows it.
    let room = declared.map_or(0, |n| n.min(limit as u64) as usize);
    let raw = match tokio::time::timeout(timeout, collect(body, limit, room)).await {
        Err(_) => {
            let why =
                format!("body: not received in full within inbound.body_timeout ({timeout:?})");
            return Err(refused(Refusal::BadInput(why), true));
        }
        Ok(Collected::Whole(raw)) => raw,
        Ok(Collected::TooLarge { drained }) => return Err(refused(too_large(limit, ""), !drained)),
        Ok(Collected::Cut(why)) => return Err(refused(Refusal::BadInput(why), true)),
    };
    match encoding {
        Ok(Encoding::Identity) => Ok(raw),
        Ok(coding) => decode(&raw, coding, limit).map_err(|r| refused(r, false)),
        Err(r) => Err(refused(r, false)),
    }
}

fn refused(refusal: Refusal, close: bool) -> Refused {
    Refused { refusal, close }
}

fn too_large(limit: usize, decoded: &str) -> Refusal {
    Refusal::BadInput(format!(
        "body: larger than inbound.max_body_bytes ({limit} bytes){decoded}"
    ))
}

enum Collected {
    Whole(Bytes),
    /// Over the limit; `drained` when the rest was read to its end.
    TooLarge {
        drained: bool,
    },
    Cut(String),
}

/// Reads up to `limit` bytes; past it, reads and drops up to [`DISCARD_BYTES`] more.
async fn collect(body: Body, limit: usize, room: usize) -> Collected {
    let mut kept = Vec::with_capacity(room);
    let mut seen: u64 = 0;
    let mut chunks = body.into_data_stream();
    while let Some(chunk) = chunks.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(e) => {
                let why = format!("body: ended before all of it arrived ({e}: the client closed or broke off the request)");
                return Collected::Cut(why);
            }
        };
        seen += chunk.len() as u64;
        if seen > limit as u64 + DISCARD_BYTES {
            return Collected::TooLarge { drained: false };
        }
        if seen <= limit as u64 {
            kept.extend_from_slice(&chunk);
        } else if !kept.is_empty() {
            kept = Vec::new();
        }
    }
    match seen > limit as u64 {
        true => Collected::TooLarge { drained: true },
        false => Collected::Whole(kept.into()),
    }
}

/// The request's `Content-Encoding`: one of gzip or deflate at most.
fn encoding(headers: &HeaderMap) -> Result<Encoding, Refusal> {
    let mut codings = headers.get_all(CONTENT_ENCODING).iter().flat_map(|v| {
        let v = String::from_utf8_lossy(v.as_bytes()).to_ascii_lowercase();
        v.split(',')
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty() && c != "identity")
            .collect::<Vec<_>>()
    });
    let first = codings.next();
    let found = match first.as_deref() {
        None => return Ok(Encoding::Identity),
        Some("gzip" | "x-gzip") => Encoding::Gzip,
        Some("deflate") => Encoding::Deflate,
        Some(other) => return Err(unsupported(other)),
    };
    match codings.next() {
        None => Ok(found),
        Some(_) => Err(unsupported("more than one coding")),
    }
}

fn unsupported(what: &str) -> Refusal {
    Refusal::BadInput(format!(
        "Content-Encoding: {what} is not supported: send the body as is, gzip or deflate"
    ))
}

/// The decoded body, at most `limit` bytes: a small body that decodes to a large one (a
/// compression bomb) is refused as soon as the limit is passed.
fn decode(raw: &[u8], coding: Encoding, limit: usize) -> Result<Bytes, Refusal> {
    let name = if coding == Encoding::Gzip {
        "gzip"
    } else {
        "deflate"
    };
    let mut decoded = Vec::new();
    // HTTP's deflate is zlib-wrapped; some clients send raw deflate, told apart by its header.
    let zlib = raw.len() >= 2
        && raw[0] & 0x0f == 8
        && u16::from_be_bytes([raw[0], raw[1]]).is_multiple_of(31);
    let reader: Box<dyn Read + '_> = match (coding, zlib) {
        (Encoding::Gzip, _) => Box::new(flate2::read::MultiGzDecoder::new(raw)),
        (_, true) => Box::new(flate2::read::ZlibDecoder::new(raw)),
        (_, false) => Box::new(flate2::read::DeflateDecoder::new(raw)),
    };
    reader
        .take(limit as u64 + 1)
        .read_to_end(&mut decoded)
        .map_err(|e| {
            Refusal::BadInput(format!(
                "body: is not valid {name} (Content-Encoding: {name}): {e}"
            ))
        })?;
    if decoded.len() > limit {
        return Err(too_large(limit, &format!(" once decoded from {name}")));
    }
    Ok(decoded.into())
}
