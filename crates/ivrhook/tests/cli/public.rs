//! Fail closed: a listener the network can reach (not loopback, or behind `trusted_proxies`)
//! serves the API and the dashboard only with a token, or with `api_open = true`; on plain
//! HTTP, on TLS, and on every node of a PostgreSQL cluster.

use crate::proc::*;
use ivrhook_store::postgres::scratch::ScratchDatabase;
use ivrhook_testkit::APP;
use serde_json::Value;
use std::path::Path;

const ADMIN: &str = "admin-token-for-the-public-test";

/// Writes `top` and one `[[apps]]` entry as `name` in `dir`.
fn config(dir: &Path, name: &str, top: &str) {
    std::fs::write(dir.join(name), format!("{top}\n[[apps]]\nid = \"{APP}\"\n")).unwrap();
}

/// The server's base URL on loopback (its start-up line names the wildcard address).
fn local(server: &Running) -> String {
    server.base.replace("0.0.0.0", "127.0.0.1")
}

async fn refused_naming_the_token_keys(dir: &Path, args: &[&str], reached: &str) {
    let (_, err) = run_fails(dir, args).await;
    let expected = format!(
        "ivrhook: admin_token: neither admin_token nor [[api_tokens]] is set and {reached}"
    );
    assert!(err.starts_with(&expected), "{err}");
    assert!(
        err.contains("`ivrhook token new`") && err.contains("api_open = true"),
        "{err}"
    );
}

#[tokio::test]
async fn a_public_listener_with_apps_and_no_token_does_not_start_and_says_why() {
    let (_guard, dir) = temp_dir();
    config(&dir, "pub.toml", "listen = \"0.0.0.0:0\"");
    let reached = "listen = \"0.0.0.0:0\" is not a loopback address";
    refused_naming_the_token_keys(&dir, &["serve", "--config", "pub.toml"], reached).await;
    assert!(!dir.join("ivrhook.db").exists(), "nothing was opened");

    // With --log-format json, the same refusal is one JSON log line naming the key.
    let args = ["serve", "--config", "pub.toml", "--log-format", "json"];
    let (_, err) = run_fails(&dir, &args).await;
    let line: Value = serde_json::from_str(err.trim()).unwrap_or_else(|e| panic!("{e}: {err}"));
    assert_eq!(line["level"], "ERROR", "{line}");
    assert_eq!(line["key"], "admin_token", "{line}");
    let error = line["error"].as_str().unwrap();
    assert!(
        error.contains(reached) && error.contains("ivrhook token new"),
        "{error}"
    );
    // Other start-up refusals take the same form.
    std::fs::write(dir.join("typo.toml"), "lisen = \"127.0.0.1:1\"\n").unwrap();
    let args = ["serve", "--config", "typo.toml", "--log-format", "json"];
    let (_, err) = run_fails(&dir, &args).await;
    let line: Value = serde_json::from_str(err.trim()).unwrap_or_else(|e| panic!("{e}: {err}"));
    assert_eq!(line["key"], "lisen", "{line}");

    // A loopback listener that a proxy hands requests from elsewhere is public too.
    let proxied = "listen = \"127.0.0.1:0\"\ntrusted_proxies = [\"10.0.0.2\"]";
    config(&dir, "proxied.toml", proxied);
    let reached = "listen = \"127.0.0.1:0\" is reached through trusted_proxies";
    refused_naming_the_token_keys(&dir, &["serve", "--config", "proxied.toml"], reached).await;
}

#[tokio::test]
async fn a_public_listener_with_a_token_asks_every_api_and_dashboard_request_for_it() {
    let (_guard, dir) = temp_dir();
    config(&dir, "pub.toml", &format!("admin_token = \"{ADMIN}\""));
    let mut server = serve_listening(&dir, "0.0.0.0:0", &["--config", "pub.toml"], &[]).await;
    let base = local(&server);
    let client = crate::http();
    let posted = client
        .post(format!("{base}/callback"))
        .json(&report("public-1"))
        .send()
        .await
        .unwrap();
    assert!(posted.text().await.unwrap().contains("000000"));
    let calls = format!("{base}/v1/calls");
    let without = client.get(&calls).send().await.unwrap();
    assert_eq!(without.status(), 401);
    assert!(!without.text().await.unwrap().contains("public-1"));
    let with = client.get(&calls).bearer_auth(ADMIN).send().await.unwrap();
    assert_eq!(with.status(), 200);
    assert!(with.text().await.unwrap().contains("public-1"));
    let page = client.get(format!("{base}/calls")).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(
        page.contains("Sign in") && !page.contains("public-1"),
        "{page}"
    );
    // Health and metrics keep their own rule: open, and holding no report.
    for open in ["/healthz", "/metrics"] {
        let r = client.get(format!("{base}{open}")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{open}");
    }
    server.child.start_kill().unwrap();
}

#[tokio::test]
async fn a_tls_listener_follows_the_same_rule() {
    let (_guard, dir) = temp_dir();
    let made = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::write(dir.join("cert.pem"), made.cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), made.key_pair.serialize_pem()).unwrap();
    let tls = "listen = \"0.0.0.0:0\"\ntls = { cert = \"cert.pem\", key = \"key.pem\" }";
    config(&dir, "open.toml", tls);
    let reached = "listen = \"0.0.0.0:0\" is not a loopback address";
    refused_naming_the_token_keys(&dir, &["serve", "--config", "open.toml"], reached).await;

    config(
        &dir,
        "closed.toml",
        &format!("{tls}\nadmin_token = \"{ADMIN}\""),
    );
    let args = ["--config", "closed.toml"];
    let mut server = serve_listening(&dir, "0.0.0.0:0", &args, &[]).await;
    assert!(server.line.contains("https://"), "{}", server.line);
    let addr: std::net::SocketAddr = local(&server)
        .trim_start_matches("https://")
        .parse()
        .unwrap();
    let client = crate::http_builder()
        .tls_certs_only([reqwest::Certificate::from_pem(made.cert.pem().as_bytes()).unwrap()])
        .resolve("localhost", addr)
        .build()
        .unwrap();
    let calls = format!("https://localhost:{}/v1/calls", addr.port());
    assert_eq!(client.get(&calls).send().await.unwrap().status(), 401);
    let with = client.get(&calls).bearer_auth(ADMIN).send().await;
    assert_eq!(with.unwrap().status(), 200);
    server.child.start_kill().unwrap();
}

#[tokio::test]
async fn every_node_of_a_postgresql_cluster_needs_a_token() {
    let (_guard, dir) = temp_dir();
    let db = ScratchDatabase::for_tests("ivrhook_cli_public")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let database = format!("database = \"{}\"", db.url);
    config(
        &dir,
        "first.toml",
        &format!("{database}\nadmin_token = \"{ADMIN}\""),
    );
    let args = ["--config", "first.toml"];
    let mut first = serve_listening(&dir, "0.0.0.0:0", &args, &[]).await;
    assert!(first.line.contains("data in postgres://"), "{}", first.line);
    // A second node on the same database without a token of its own does not start.
    config(
        &dir,
        "second.toml",
        &format!("{database}\nlisten = \"0.0.0.0:0\""),
    );
    let reached = "listen = \"0.0.0.0:0\" is not a loopback address";
    refused_naming_the_token_keys(&dir, &["serve", "--config", "second.toml"], reached).await;
    let client = crate::http();
    let calls = format!("{}/v1/calls", local(&first));
    assert_eq!(client.get(&calls).send().await.unwrap().status(), 401);
    first.child.start_kill().unwrap();
    let _ = first.child.wait().await;
    db.drop_database().await.unwrap();
}

#[tokio::test]
async fn api_open_starts_warns_at_every_start_and_shows_in_the_dashboards_header() {
    let (_guard, dir) = temp_dir();
    config(&dir, "open.toml", "api_open = true");
    for start in 1..=2 {
        let args = ["--config", "open.toml"];
        let mut server = serve_listening(&dir, "0.0.0.0:0", &args, &[]).await;
        let base = local(&server);
        let addr = server.base.trim_start_matches("http://").to_owned();
        let warning = format!(
            "api_open = true: the API and the dashboard at {addr} take every request without a token"
        );
        wait_until("the api_open warning", || {
            stderr(&dir).matches(&warning).count() == 1
        })
        .await;
        let calls = crate::http()
            .get(format!("{base}/v1/calls"))
            .send()
            .await
            .unwrap();
        assert_eq!(calls.status(), 200, "start {start}");
        let page = crate::http()
            .get(format!("{base}/calls"))
            .send()
            .await
            .unwrap();
        let page = page.text().await.unwrap();
        let header = page
            .split("<header>")
            .nth(1)
            .and_then(|h| h.split("</header>").next())
            .unwrap_or_else(|| panic!("a header in {page}"));
        assert!(
            header.contains("api_open = true: ivrhook asks no token"),
            "{header}"
        );
        server.child.start_kill().unwrap();
        let _ = server.child.wait().await;
    }
    let warnings = stderr(&dir).matches("api_open = true: the API").count();
    assert_eq!(warnings, 2, "one warning at each start");

    // Beside a token, api_open would say both: refused.
    config(
        &dir,
        "both.toml",
        &format!("api_open = true\nadmin_token = \"{ADMIN}\""),
    );
    let (_, err) = run_fails(&dir, &["serve", "--config", "both.toml"]).await;
    assert!(
        err.contains("api_open: is true, but admin_token or [[api_tokens]] are set"),
        "{err}"
    );
}

#[tokio::test]
async fn loopback_without_apps_stays_open_and_says_so() {
    let (_guard, dir) = temp_dir();
    let mut server = serve(&dir, &[]).await;
    assert!(server.line.contains("accepting any appId (loopback only)"));
    let calls = crate::http()
        .get(format!("{}/v1/calls", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(calls.status(), 200);
    let page = crate::http()
        .get(format!("{}/calls", server.base))
        .send()
        .await
        .unwrap();
    let page = page.text().await.unwrap();
    assert!(page.contains("open to anyone who can reach it"), "{page}");
    assert!(!page.contains("api_open"), "{page}");
    server.child.start_kill().unwrap();
}
