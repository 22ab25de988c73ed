//! The dashboard in a real browser: Debian's headless Chromium, driven through chromedriver
//! with fantoccini (both installed by `scripts/setup`). Screenshots of each page go to
//! `target/screenshots/`.

use crate::helpers::*;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::time::Duration;

struct Browser {
    client: Client,
    _driver: tokio::process::Child,
}

async fn browser() -> Browser {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let driver = tokio::process::Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver runs (apt-get install chromium chromium-driver; scripts/setup does)");
    let caps = json!({"goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": [
        "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"]}});
    let caps = caps.as_object().unwrap().clone();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let connected = ClientBuilder::native()
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await;
        match connected {
            Ok(client) => {
                return Browser {
                    client,
                    _driver: driver,
                }
            }
            Err(e) if tokio::time::Instant::now() > deadline => panic!("no browser: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// The text of the first element `css` selects, once the page has one.
async fn text_of(client: &Client, css: &str) -> String {
    let element = client.wait().for_element(Locator::Css(css)).await;
    element
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap()
}

async fn screenshot(client: &Client, name: &str) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/screenshots");
    std::fs::create_dir_all(dir).unwrap();
    let png = client.screenshot().await.unwrap();
    std::fs::write(format!("{dir}/{name}.png"), png).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_shows_destinations_and_recent_calls_in_a_browser() {
    let config =
        "[[destinations]]\nname = \"crm\"\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9/h\"\n";
    let app = spawn_with(config).await;
    app.post_callback(report("dash-1").to_string()).await;
    let b = browser().await;
    b.client.goto(&app.url("/")).await.unwrap();
    let banner = b
        .client
        .find(Locator::Css(".banner"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(banner.contains("open to anyone"), "{banner}");
    let mut rows = Vec::new();
    for row in b.client.find_all(Locator::Css("tbody tr")).await.unwrap() {
        rows.push(row.text().await.unwrap());
    }
    assert!(rows.iter().any(|r| r.starts_with("crm")), "{rows:?}");
    assert!(
        rows.iter()
            .any(|r| r.contains("dash-1") && r.contains("completed")),
        "{rows:?}"
    );
    screenshot(&b.client, "overview").await;
    // At phone width nothing spills sideways but the tables, which scroll in their boxes.
    b.client.set_window_size(390, 844).await.unwrap();
    let fits = b
        .client
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(fits, json!(true));
    screenshot(&b.client, "overview-phone").await;
    b.client.close().await.unwrap();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_token_the_dashboard_signs_in_with_an_http_only_strict_cookie() {
    let app = spawn_with("admin_token = \"dash-token-000001\"").await;
    let resp = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.text().await.unwrap().contains("action=\"/signin\""));
    let resp = app
        .client
        .get(app.url("/"))
        .bearer_auth("dash-token-000001")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "the API's token works too");

    let b = browser().await;
    b.client.goto(&app.url("/")).await.unwrap();
    let sign_in = |token: &'static str| {
        let client = b.client.clone();
        async move {
            let field = client
                .wait()
                .for_element(Locator::Css("#token"))
                .await
                .unwrap();
            field.send_keys(token).await.unwrap();
            let button = client.find(Locator::Css("#signin")).await.unwrap();
            button.click().await.unwrap();
        }
    };
    sign_in("wrong-token").await;
    let alert = text_of(&b.client, "[role=alert]").await;
    assert_eq!(alert, "That is not the admin token.");
    screenshot(&b.client, "signin").await;
    sign_in("dash-token-000001").await;
    text_of(&b.client, ".signout").await;
    assert_eq!(text_of(&b.client, "h1").await, "Overview");
    let page = b.client.source().await.unwrap();
    assert!(!page.contains("open to anyone"), "no banner with a token");
    let script = b.client.execute("return document.cookie", vec![]).await;
    assert_eq!(script.unwrap(), json!(""), "the session cookie is HttpOnly");
    let cookie = b.client.get_named_cookie("ivrhook_session").await.unwrap();
    let flags = format!("{:?} {:?}", cookie.same_site(), cookie.http_only());
    assert_eq!(flags, "Some(Strict) Some(true)");
    let sign_out = b
        .client
        .find(Locator::Css(".signout button"))
        .await
        .unwrap();
    sign_out.click().await.unwrap();
    text_of(&b.client, "#signin").await;
    b.client.close().await.unwrap();
    app.stop().await;
}
