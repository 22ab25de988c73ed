//! What arrives before or around a body: answers hyper would make bare carry the contract's
//! JSON and are counted; deflate bodies are decoded; a body that ends early is answered; a
//! body too large to drop, or one a client holds back for `100 Continue`, is answered at once.

use crate::helpers::*;
use std::io::Write;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// Writes `request` on a new connection, half-closes it when `shut`, and reads the answer
/// until the server closes the connection (or a whole answer has come).
async fn exchange(app: &TestApp, request: &[u8], shut: bool) -> String {
    let mut conn = TcpStream::connect(app.addr).await.unwrap();
    conn.write_all(request).await.unwrap();
    if shut {
        conn.shutdown().await.unwrap();
    }
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let read = async {
        loop {
            match conn.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
            if answer_is_whole(&got) {
                break;
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(20), read)
        .await
        .expect("an answer within 20 s");
    String::from_utf8_lossy(&got).into_owned()
}

fn answer_is_whole(got: &[u8]) -> bool {
    let text = String::from_utf8_lossy(got).to_ascii_lowercase();
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: ")?.parse().ok());
    length.is_some_and(|n: usize| body.len() >= n)
}

#[tokio::test]
async fn hypers_own_refusals_carry_the_contracts_json_and_are_counted() {
    let app = spawn_app().await;
    let mut many = b"POST /callback HTTP/1.1\r\nHost: x\r\n".to_vec();
    for i in 0..200 {
        write!(many, "X-Header-{i}: v\r\n").unwrap();
    }
    many.extend_from_slice(b"Content-Length: 2\r\n\r\n{}");
    let answer = exchange(&app, &many, false).await;
    assert!(answer.starts_with("HTTP/1.1 431 "), "{answer}");
    assert!(answer.contains("application/json"), "{answer}");
    assert!(answer.ends_with(r#"{"code":"108100","msg":"headers: too many or too large for this receiver (at most 100 header lines)"}"#), "{answer}");

    let answer = exchange(&app, b"NOT HTTP AT ALL\r\n\r\n", false).await;
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
    assert!(
        answer.contains(r#""code":"108100""#) && answer.contains("not a well-formed"),
        "{answer}"
    );

    let metric = |s: &str| format!("ivrhook_requests_refused_early_total{{status=\"{s}\"}}");
    assert_eq!(app.metric(&metric("431")).await, 1.0);
    assert_eq!(app.metric(&metric("400")).await, 1.0);
    app.stop().await;
}

#[tokio::test]
async fn a_body_that_ends_early_is_answered() {
    let app = spawn_app().await;
    let head = b"POST /callback HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"appId\":";
    let answer = exchange(&app, head, true).await;
    assert!(answer.contains(r#""code":"108100""#), "{answer}");
    assert!(
        answer.contains("body: ended before all of it arrived"),
        "{answer}"
    );
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    app.stop().await;
}

#[tokio::test]
async fn deflate_bodies_zlib_wrapped_or_raw_are_decoded() {
    let app = spawn_app().await;
    for (n, zlib) in [(1, true), (2, false)] {
        let body = report(&format!("deflate-{n}")).to_string();
        let packed = match zlib {
            true => {
                let mut z = flate2::write::ZlibEncoder::new(Vec::new(), Default::default());
                z.write_all(body.as_bytes()).unwrap();
                z.finish().unwrap()
            }
            false => {
                let mut z = flate2::write::DeflateEncoder::new(Vec::new(), Default::default());
                z.write_all(body.as_bytes()).unwrap();
                z.finish().unwrap()
            }
        };
        let resp = app
            .client
            .post(app.url("/callback"))
            .header("content-encoding", "deflate");
        let answer: serde_json::Value = resp
            .body(packed)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(answer["code"], "000000", "zlib {zlib}: {answer}");
        assert_eq!(app.timeline(&format!("deflate-{n}")).await.len(), 1);
    }
    app.stop().await;
}

#[tokio::test]
async fn a_body_held_back_for_100_continue_or_too_large_to_drop_is_answered_at_once() {
    let app = spawn_with("[inbound]\nmax_body_bytes = 1024\n").await;
    let waits = b"POST /callback HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\nExpect: 100-continue\r\n\r\n";
    let answer = exchange(&app, waits, false).await;
    assert!(
        !answer.contains("100 Continue"),
        "the body is not asked for: {answer}"
    );
    assert!(
        answer.contains("inbound.max_body_bytes (1024 bytes)"),
        "{answer}"
    );
    // More than max_body_bytes + 64 MiB declared: nothing is read, the connection closes.
    let huge = b"POST /callback HTTP/1.1\r\nHost: x\r\nContent-Length: 68000000\r\n\r\n";
    let answer = exchange(&app, huge, false).await;
    assert!(
        answer.contains("inbound.max_body_bytes (1024 bytes)"),
        "{answer}"
    );
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    app.stop().await;
}
