//! Answers hyper makes itself, before any handler runs: `400` for a request head it cannot
//! read, `414` for a URI too long, `431` for too many or too large headers. hyper sends them
//! with no body, but the contract promises JSON, so a connection's writes are watched and such
//! a head-only answer goes out with the contract's `108100` body instead (the status kept), and
//! is counted. Nothing ivrhook itself answers is a bare head with one of these statuses.

use crate::metrics::Metrics;
use ivrhook_protocol::{Answer, ResponseCode};
use std::{
    io::{self, IoSlice},
    pin::Pin,
    sync::Arc,
    task::{ready, Context, Poll},
};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Longer writes are no bare head of hyper's.
const MAX_HEAD: usize = 512;

/// A connection whose bare early answers carry the contract's body.
pub(crate) struct Early<S> {
    inner: S,
    metrics: Arc<Metrics>,
    replacing: Option<Replacing>,
}

/// The answer written in place of hyper's head, and how many bytes of hyper's it stands for.
struct Replacing {
    bytes: Vec<u8>,
    written: usize,
    stands_for: usize,
}

impl<S> Early<S> {
    pub(crate) fn new(inner: S, metrics: Arc<Metrics>) -> Early<S> {
        Early {
            inner,
            metrics,
            replacing: None,
        }
    }
}

/// The status of a bare answer hyper made itself, when `head` is one.
fn hyper_answer(head: &[u8]) -> Option<u16> {
    let head = std::str::from_utf8(head).ok()?.strip_suffix("\r\n\r\n")?;
    let status: u16 = head.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()?;
    let lower = head.to_ascii_lowercase();
    let bare = (lower.lines()).any(|l| l == "content-length: 0") && !head.contains("\r\n\r\n");
    ([400, 414, 431].contains(&status) && bare).then_some(status)
}

/// The answer with the contract's body, closing the connection as hyper does after it.
fn with_body(status: u16) -> Vec<u8> {
    let (reason, msg) = match status {
        414 => ("URI Too Long", "request: the URI is too long"),
        431 => (
            "Request Header Fields Too Large",
            "headers: too many or too large for this receiver (at most 100 header lines)",
        ),
        _ => (
            "Bad Request",
            "request: not a well-formed HTTP/1.1 request (its request line or a header cannot be read)",
        ),
    };
    let body = serde_json::to_string(&Answer::new(ResponseCode::BadInput, msg))
        .unwrap_or_else(|_| r#"{"code":"108100"}"#.into());
    format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

impl<S: AsyncWrite + Unpin> Early<S> {
    fn start(&mut self, status: u16, stands_for: usize) {
        self.metrics.refused_early(status);
        self.replacing = Some(Replacing {
            bytes: with_body(status),
            written: 0,
            stands_for,
        });
    }

    /// Writes the replacement; done, it reports hyper's head as written.
    fn poll_replacement(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let Some(r) = self.replacing.as_mut() else {
            return Poll::Ready(Ok(0));
        };
        while r.written < r.bytes.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &r.bytes[r.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            r.written += n;
        }
        let stands_for = r.stands_for;
        self.replacing = None;
        Poll::Ready(Ok(stands_for))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Early<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.replacing.is_none() {
            match (buf.len() <= MAX_HEAD).then(|| hyper_answer(buf)).flatten() {
                Some(status) => this.start(status, buf.len()),
                None => return Pin::new(&mut this.inner).poll_write(cx, buf),
            }
        }
        this.poll_replacement(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.replacing.is_none() {
            let total: usize = bufs.iter().map(|b| b.len()).sum();
            let head = (total <= MAX_HEAD).then(|| {
                bufs.iter()
                    .flat_map(|b| b.iter().copied())
                    .collect::<Vec<u8>>()
            });
            match head.and_then(|h| hyper_answer(&h)) {
                Some(status) => this.start(status, total),
                None => return Pin::new(&mut this.inner).poll_write_vectored(cx, bufs),
            }
        }
        this.poll_replacement(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Early<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::hyper_answer;

    #[test]
    fn only_bare_heads_of_hypers_statuses_are_taken() {
        let bare =
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        assert_eq!(hyper_answer(bare), Some(431));
        let with_body = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\n{}";
        assert_eq!(hyper_answer(with_body), None);
        let other = b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(hyper_answer(other), None);
    }
}
