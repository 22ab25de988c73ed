//! TLS on the listener with certificates made here (rcgen): HTTP/1.1 (reqwest) and HTTP/2
//! (curl) clients, a reload on SIGHUP that new handshakes see and open connections survive,
//! a bad reload that keeps the old certificate, a bad certificate that stops start-up.

use crate::proc::*;
use std::{path::Path, time::Duration};

/// A new self-signed certificate for `localhost`, written as `cert.pem` and `key.pem`; its PEM.
fn new_certificate(dir: &Path) -> String {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::write(dir.join("cert.pem"), made.cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), made.key_pair.serialize_pem()).unwrap();
    made.cert.pem()
}

/// A client that trusts `pem` alone, reaching `localhost` at the server's address.
fn trusting(pem: &str, base: &str) -> reqwest::Client {
    let addr: std::net::SocketAddr = base.trim_start_matches("https://").parse().unwrap();
    crate::http_builder()
        .tls_certs_only([reqwest::Certificate::from_pem(pem.as_bytes()).unwrap()])
        .resolve("localhost", addr)
        .build()
        .unwrap()
}

async fn healthy(client: &reqwest::Client, port: u16) -> bool {
    let url = format!("https://localhost:{port}/healthz");
    client
        .get(url)
        .send()
        .await
        .is_ok_and(|r| r.status() == 200)
}

/// curl over HTTP/2: the protocol version it spoke and the body it got.
async fn curl_h2(dir: &Path, port: u16, data: &str) -> (String, String) {
    let out = tokio::process::Command::new("curl")
        .args(["-sS", "--http2", "--cacert", "first.pem", "--resolve"])
        .arg(format!("localhost:{port}:127.0.0.1"))
        .args([
            "-H",
            "content-type: application/json",
            "--data",
            data,
            "-w",
            "\n%{http_version}",
        ])
        .arg(format!("https://localhost:{port}/callback"))
        .current_dir(dir)
        .output()
        .await
        .expect("curl runs (scripts/setup installs it)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, version) = text.rsplit_once('\n').unwrap_or((&text, ""));
    (version.to_owned(), body.to_owned())
}

#[tokio::test]
async fn tls_serves_both_protocols_and_reloads_on_sighup_without_dropping_connections() {
    let (_guard, dir) = temp_dir();
    let first = new_certificate(&dir);
    std::fs::write(dir.join("first.pem"), &first).unwrap();
    let config =
        "tls = { cert = \"cert.pem\", key = \"key.pem\" }\n[inbound]\nheader_timeout = \"60s\"\n";
    std::fs::write(dir.join("ivrhook.toml"), config).unwrap();
    let mut server = serve(&dir, &["--config", "ivrhook.toml"]).await;
    assert!(
        server.line.starts_with("ivrhook listening on https://"),
        "{}",
        server.line
    );
    let port: u16 = server.base.rsplit(':').next().unwrap().parse().unwrap();
    let old = trusting(&first, &server.base);
    assert!(healthy(&old, port).await, "HTTP/1.1 over TLS");
    let (version, body) = curl_h2(&dir, port, &fixture_text("send-example.json")).await;
    assert_eq!(version, "2", "{body}");
    assert!(body.contains("\"code\":\"000000\""), "{body}");

    let second = new_certificate(&dir);
    let pid = server.child.id().unwrap().to_string();
    hangup(&pid).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !healthy(&trusting(&second, &server.base), port).await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the new certificate is not served"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        healthy(&old, port).await,
        "the connection opened before the reload still works"
    );
    assert!(
        !healthy(&trusting(&first, &server.base), port).await,
        "new handshakes: new cert"
    );

    std::fs::write(dir.join("cert.pem"), "not a certificate").unwrap();
    hangup(&pid).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !stderr(&dir).contains("TLS certificate not reloaded: the old one stays") {
        assert!(tokio::time::Instant::now() < deadline, "{}", stderr(&dir));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        healthy(&trusting(&second, &server.base), port).await,
        "still the second one"
    );
    server.child.start_kill().unwrap();
}

async fn hangup(pid: &str) {
    let sent = tokio::process::Command::new("kill")
        .args(["-HUP", pid])
        .status()
        .await;
    assert!(sent.unwrap().success());
}

fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).unwrap()
}

#[tokio::test]
async fn a_bad_certificate_stops_start_up_naming_the_file() {
    let (_guard, dir) = temp_dir();
    std::fs::write(dir.join("cert.pem"), "not a certificate").unwrap();
    std::fs::write(dir.join("key.pem"), "nor a key").unwrap();
    std::fs::write(
        dir.join("ivrhook.toml"),
        "tls = { cert = \"cert.pem\", key = \"key.pem\" }\n",
    )
    .unwrap();
    let out = ivrhook(&dir)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--config",
            "ivrhook.toml",
        ])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("tls.cert: cert.pem holds no certificate"),
        "{err}"
    );
}
