//! Connections that hold the server without finishing a request: closed after
//! `inbound.header_timeout` while real reports are answered; `max_connections` holds.

use crate::helpers::*;
use std::time::Duration;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    task::JoinHandle,
};

/// A client that opens a request and then sends one header byte every 200 ms, never
/// finishing the head. Ends when the server closes the connection.
fn dribbler(mut s: TcpStream) -> JoinHandle<()> {
    tokio::spawn(async move {
        s.write_all(b"POST /callback HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .unwrap();
        let mut buf = [0u8; 64];
        loop {
            tokio::select! {
                read = s.read(&mut buf) => if matches!(read, Ok(0) | Err(_)) { return },
                () = tokio::time::sleep(Duration::from_millis(200)) => {
                    if s.write_all(b"a").await.is_err() { return }
                }
            }
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_closed_after_the_header_timeout_and_reports_still_get_in() {
    let app = spawn_with("[inbound]\nheader_timeout = \"3s\"").await;
    // Connected one after another, so that the kernel's accept queue never overflows.
    let mut slow = Vec::new();
    for _ in 0..200 {
        slow.push(dribbler(TcpStream::connect(app.addr).await.unwrap()));
    }
    eventually("the slow connections to be open", || async {
        app.metric("ivrhook_connections_open").await >= 200.0
    })
    .await;
    // Meanwhile a platform's report is answered.
    let answer = app.post_callback(report("while-slow").to_string()).await;
    assert_eq!(answer.code, "000000");
    for s in slow {
        // Each ends only when the server closed it; dribbling did not keep it open.
        tokio::time::timeout(Duration::from_secs(15), s)
            .await
            .expect("closed")
            .unwrap();
    }
    assert_eq!(app.timeline("while-slow").await.len(), 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_max_connections_a_new_connection_is_closed_at_once() {
    let app = spawn_with("max_connections = 20\n[inbound]\nheader_timeout = \"2s\"").await;
    let mut held = Vec::new();
    for _ in 0..20 {
        held.push(TcpStream::connect(app.addr).await.unwrap());
    }
    // The 21st is accepted by the kernel and closed by ivrhook without an answer.
    let mut extra = TcpStream::connect(app.addr).await.unwrap();
    let _ = extra
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), extra.read_to_end(&mut buf)).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "closed unanswered: {read:?} {buf:?}"
    );
    // Once the held ones go, their places are free again.
    drop(held);
    eventually("a free place", || async {
        app.client.get(app.url("/healthz")).send().await.is_ok()
    })
    .await;
    let answer = app
        .post_callback(report("after-the-flood").to_string())
        .await;
    assert_eq!(answer.code, "000000");
    assert!(app.metric("ivrhook_connections_refused_total").await >= 1.0);
    app.stop().await;
}

#[tokio::test]
async fn past_its_rate_limit_an_app_is_answered_queue_full_and_nothing_is_stored() {
    let app = spawn_with(&format!("[[apps]]\nid = \"{APP}\"\nrate_limit = \"3/h\"")).await;
    for n in 0..3 {
        let answer = app
            .post_callback(report(&format!("rl-{n}")).to_string())
            .await;
        assert_eq!(answer.code, "000000");
    }
    let answer = app.post_callback(report("rl-over").to_string()).await;
    assert_eq!(answer.code, "108102");
    assert_eq!(
        answer.msg,
        format!("queue full: app {APP} is over its rate_limit (3/h); retry later")
    );
    assert_eq!(app.get("/v1/calls/rl-over").await.0, 404);
    app.stop().await;
}
