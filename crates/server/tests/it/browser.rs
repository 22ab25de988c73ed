//! A real browser for the dashboard's tests: Debian's headless Chromium, driven through
//! chromedriver with fantoccini (both installed by `scripts/setup`). Screenshots go to
//! `target/screenshots/`.

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::time::Duration;

pub struct Browser {
    pub client: Client,
    _driver: Driver,
}

/// chromedriver and the Chromium it started share a process group: a test that fails before
/// closing its browser leaves nothing running.
struct Driver(tokio::process::Child);

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(pid) = self.0.id() {
            let group = format!("-{pid}");
            let _ = std::process::Command::new("kill")
                .args(["-9", "--", &group])
                .status();
        }
    }
}

pub async fn browser() -> Browser {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let driver = tokio::process::Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(std::process::Stdio::null())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver runs (apt-get install chromium chromium-driver; scripts/setup does)");
    let caps = json!({"goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": [
        "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"]}});
    let caps = caps.as_object().unwrap().clone();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let http = hyper_util::client::legacy::connect::HttpConnector::new();
        let connected = ClientBuilder::new(http)
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await;
        match connected {
            Ok(client) => {
                return Browser {
                    client,
                    _driver: Driver(driver),
                }
            }
            Err(e) if tokio::time::Instant::now() > deadline => panic!("no browser: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// The text of the first element `css` selects, once the page has one.
pub async fn text_of(client: &Client, css: &str) -> String {
    texts_of(client, css).await.swap_remove(0)
}

pub async fn screenshot(client: &Client, name: &str) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/screenshots");
    std::fs::create_dir_all(dir).unwrap();
    let png = client.screenshot().await.unwrap();
    std::fs::write(format!("{dir}/{name}.png"), png).unwrap();
}

/// Every text the elements `css` selects hold, once there is one. Read in one script, so a
/// part of the page that updates itself cannot change between finding and reading.
pub async fn texts_of(client: &Client, css: &str) -> Vec<String> {
    let script = "return [...document.querySelectorAll(arguments[0])]
        .map(e => (e.innerText ?? e.textContent).trim())";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let found = client.execute(script, vec![json!(css)]).await.unwrap();
        let texts: Vec<String> = serde_json::from_value(found).unwrap();
        if !texts.is_empty() {
            return texts;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "nothing matches {css}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Clicks the first element `css` selects, once there is one.
pub async fn click(client: &Client, css: &str) {
    let e = client.wait().for_element(Locator::Css(css)).await;
    e.unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

/// Waits (ten seconds at most) until the page's URL holds `part`: a navigation has landed.
pub async fn wait_for_url(client: &Client, part: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let url = client.current_url().await.unwrap();
        if url.as_str().contains(part) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{url} never held {part}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Reloads the page until the element `css` selects reads `want` (or ten seconds pass).
pub async fn reload_until(client: &Client, css: &str, want: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let now = text_of(client, css).await;
        if now == want {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{css} still reads {now:?}, not {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        client.refresh().await.unwrap();
    }
}

/// At phone width (390 px) nothing spills sideways but tables and drawings, which scroll in
/// their own boxes; a screenshot is saved as `{name}-phone`. The window is put back after.
pub async fn fits_a_phone(client: &Client, name: &str) {
    client.set_window_size(390, 844).await.unwrap();
    let script = "const wide = [...document.querySelectorAll('body *')]
        .filter(e => !e.closest('.scroll') && e.getBoundingClientRect().right > window.innerWidth)
        .map(e => e.tagName + '.' + e.className);
        if (document.documentElement.scrollWidth > window.innerWidth) wide.push('the page');
        return wide";
    let spilling = client.execute(script, vec![]).await.unwrap();
    screenshot(client, &format!("{name}-phone")).await;
    assert_eq!(spilling, json!([]), "wider than a phone's screen");
    client.set_window_size(1280, 900).await.unwrap();
}
