//! Recordings kept: a hung-up report's link fetched from the platform into the recordings
//! store and served back byte for byte (whole and by range); a link not ready yet, refused,
//! too large or pointing inward; a duplicate fetching nothing again. SQLite with the default
//! directory, and PostgreSQL with a directory of the test's own.

use crate::helpers::*;
use ivrhook_testkit::platform::{wav, Platform, Served};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::{path::Path, time::Duration};

/// Quick retries, so a link that is not ready is fetched again soon.
const RECORDINGS: &str =
    "[recordings]\nretry_schedule = [\"0s\", \"100ms\", \"100ms\", \"100ms\"]\n";

fn app_keeping(extra: &str) -> String {
    format!("[[apps]]\nid = \"{APP}\"\nrecordings = true\n{extra}")
}

/// A hung-up report of `call` whose recording is at `link`.
fn hung_up(call: &str, link: &str, n: u32) -> String {
    let mut r = call_report(call, n, 1, None);
    let hungup = serde_json::json!({"fileName": link, "reason": 16, "dir": 1,
        "timeStamp": "20180112172328000"});
    r["hungup"] = hungup.to_string().into();
    r.to_string()
}

/// The call's `recording` once it is no longer pending.
async fn settled(app: &TestApp, call: &str) -> Value {
    let recording = || async {
        let (_, timeline) = app.get(&format!("/v1/calls/{call}")).await;
        timeline["recording"].clone()
    };
    eventually_within(
        "the recording to be kept or failed",
        Duration::from_secs(30),
        || async { matches!(recording().await["state"].as_str(), Some("kept" | "failed")) },
    )
    .await;
    recording().await
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn fetch(app: &TestApp, path: &str, range: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(app.url(path));
    if let Some(r) = range {
        request = request.header("range", r);
    }
    request.send().await.unwrap()
}

/// Kept, then served whole and by ranges, the same bytes the platform served.
async fn kept_byte_for_byte(app: &TestApp, platform: &Platform) {
    let file = wav(150_000, 7);
    let link = platform.file("/rec/byte-for-byte.wav", &file);
    assert_eq!(
        app.post_callback(hung_up("kept-1", &link, 0)).await.code,
        "000000"
    );
    let recording = settled(app, "kept-1").await;
    assert_eq!(recording["state"], "kept", "{recording}");
    assert_eq!(recording["link"], link.as_str());
    assert_eq!(recording["size"], file.len());
    assert_eq!(recording["sha256"], sha256(&file));
    assert_eq!(recording["contentType"], "audio/wav");
    assert_eq!(recording["attempts"], 1);
    assert!(recording["keptAt"].is_string(), "{recording}");
    let url = recording["url"].as_str().unwrap();
    assert_eq!(url, "/v1/calls/kept-1/recording");
    let whole = fetch(app, url, None).await;
    assert_eq!(whole.status(), 200);
    let h = whole.headers().clone();
    assert_eq!(h["content-type"], "audio/wav");
    assert_eq!(h["content-length"], file.len().to_string().as_str());
    assert_eq!(h["etag"], format!("\"{}\"", sha256(&file)).as_str());
    assert_eq!(h["accept-ranges"], "bytes");
    assert_eq!(sha256(&whole.bytes().await.unwrap()), sha256(&file));
    for (range, want) in [
        ("bytes=1000-1999", 1000..2000),
        ("bytes=-44", file.len() - 44..file.len()),
        ("bytes=299000-", 299_000..file.len()),
    ] {
        let part = fetch(app, url, Some(range)).await;
        assert_eq!(part.status(), 206, "{range}");
        let content_range = format!("bytes {}-{}/{}", want.start, want.end - 1, file.len());
        assert_eq!(part.headers()["content-range"], content_range.as_str());
        assert_eq!(&part.bytes().await.unwrap()[..], &file[want], "{range}");
    }
    let outside = fetch(app, url, Some("bytes=400000-")).await;
    assert_eq!(outside.status(), 416);
    assert_eq!(
        platform.requests("/rec/byte-for-byte.wav"),
        [200],
        "fetched once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_is_kept_byte_for_byte_in_the_directory_beside_sqlite() {
    let platform = Platform::start().await;
    let app = spawn_with(&format!("{RECORDINGS}{}", app_keeping(""))).await;
    kept_byte_for_byte(&app, &platform).await;
    let dir = app.db_path.parent().unwrap().join("recordings");
    let (_, timeline) = app.get("/v1/calls/kept-1").await;
    let key = timeline["recording"]["key"].as_str().unwrap();
    let stored = std::fs::read(dir.join(key)).unwrap();
    assert_eq!(sha256(&stored), timeline["recording"]["sha256"]);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_is_kept_byte_for_byte_with_postgres() {
    let platform = Platform::start().await;
    let dir = tempfile::tempdir().unwrap();
    let store = format!("store = \"file://{}\"\n", dir.path().display());
    let toml = format!("{RECORDINGS}{store}{}", app_keeping(""));
    let app = spawn_on_postgres("recordings_kept", &toml).await;
    kept_byte_for_byte(&app, &platform).await;
    assert_eq!(files_in(dir.path()).len(), 1, "one object");
    app.stop().await;
}

/// Every file under `dir`, staged uploads included.
fn files_in(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match path.is_dir() {
            true => found.extend(files_in(&path)),
            false => found.push(path),
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_not_ready_is_fetched_again_and_a_refused_one_fails_with_the_reason() {
    let platform = Platform::start().await;
    let app = spawn_with(&format!("{RECORDINGS}{}", app_keeping(""))).await;
    let late = platform.serve(
        "/rec/late.wav",
        Served {
            bytes: wav(1000, 1).into(),
            first: [404, 404].into(),
            ..Served::default()
        },
    );
    let refused = platform.serve(
        "/rec/refused.wav",
        Served {
            always: Some(403),
            ..Served::default()
        },
    );
    assert_eq!(
        app.post_callback(hung_up("late", &late, 0)).await.code,
        "000000"
    );
    assert_eq!(
        app.post_callback(hung_up("refused", &refused, 0))
            .await
            .code,
        "000000"
    );
    let kept = settled(&app, "late").await;
    assert_eq!(kept["state"], "kept", "{kept}");
    assert_eq!(kept["attempts"], 3, "{kept}");
    assert_eq!(platform.requests("/rec/late.wav"), [404, 404, 200]);
    let failed = settled(&app, "refused").await;
    assert_eq!(failed["state"], "failed", "{failed}");
    assert_eq!(
        failed["reason"], "the platform answered 403 Forbidden",
        "{failed}"
    );
    assert_eq!(
        platform.requests("/rec/refused.wav"),
        [403],
        "final: not tried again"
    );
    let (status, body) = app.get("/v1/calls/refused/recording").await;
    assert_eq!(status, 404);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("(failed)"),
        "{body}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_over_max_bytes_fails_and_leaves_nothing_behind() {
    let platform = Platform::start().await;
    let toml = format!("{RECORDINGS}max_bytes = \"100KiB\"\n{}", app_keeping(""));
    let app = spawn_with(&toml).await;
    let big = wav(100_000, 3);
    let sized = platform.file("/rec/sized.wav", &big);
    let streamed = platform.serve(
        "/rec/streamed.wav",
        Served {
            bytes: big.clone().into(),
            chunked: Some((16 << 10, Duration::ZERO)),
            ..Served::default()
        },
    );
    assert_eq!(
        app.post_callback(hung_up("sized", &sized, 0)).await.code,
        "000000"
    );
    assert_eq!(
        app.post_callback(hung_up("streamed", &streamed, 0))
            .await
            .code,
        "000000"
    );
    for call in ["sized", "streamed"] {
        let failed = settled(&app, call).await;
        assert_eq!(failed["state"], "failed", "{failed}");
        let reason = failed["reason"].as_str().unwrap();
        assert!(
            reason.contains("larger than max_bytes (102400 bytes"),
            "{reason}"
        );
    }
    let dir = app.db_path.parent().unwrap().join("recordings");
    assert_eq!(
        files_in(&dir),
        Vec::<std::path::PathBuf>::new(),
        "no object, no staged part"
    );
    app.stop().await;
}

/// A private address of this machine's (not loopback), to put a platform on.
fn private_address() -> std::net::IpAddr {
    let out = std::process::Command::new("ip")
        .args(["-o", "addr", "show"])
        .output();
    let text = String::from_utf8(out.expect("ip (iproute2) runs").stdout).unwrap();
    let private = |ip: &std::net::IpAddr| match ip {
        std::net::IpAddr::V4(v4) => v4.is_private(),
        std::net::IpAddr::V6(v6) => v6.segments()[0] & 0xfe00 == 0xfc00,
    };
    let found = (text.split_whitespace())
        .filter_map(|w| w.split('/').next()?.parse::<std::net::IpAddr>().ok())
        .find(private);
    found.expect(
        "this machine has a private address (10/8, 172.16/12, 192.168/16 or fc00::/7) for the \
         private-link test; add one with: ip addr add 10.254.0.1/32 dev lo",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_to_a_private_address_is_refused_unless_the_app_allows_private() {
    let platform = Platform::on((private_address(), 0).into()).await;
    let inward = platform.file("/rec/inward.wav", &wav(1000, 5));
    let refusing = spawn_with(&format!("{RECORDINGS}{}", app_keeping(""))).await;
    assert_eq!(
        refusing
            .post_callback(hung_up("inward", &inward, 0))
            .await
            .code,
        "000000"
    );
    let failed = settled(&refusing, "inward").await;
    assert_eq!(failed["state"], "failed", "{failed}");
    let reason = failed["reason"].as_str().unwrap();
    assert!(
        reason.contains("address: not fetched (set allow_private = true"),
        "{reason}"
    );
    assert!(
        platform.requests("/rec/inward.wav").is_empty(),
        "never connected"
    );
    refusing.stop().await;
    let allowing = spawn_with(&format!(
        "{RECORDINGS}{}",
        app_keeping("allow_private = true\n")
    ))
    .await;
    assert_eq!(
        allowing
            .post_callback(hung_up("inward", &inward, 0))
            .await
            .code,
        "000000"
    );
    let kept = settled(&allowing, "inward").await;
    assert_eq!(kept["state"], "kept", "{kept}");
    allowing.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_or_a_second_report_of_the_call_fetches_nothing_again() {
    let platform = Platform::start().await;
    let app = spawn_with(&format!("{RECORDINGS}{}", app_keeping(""))).await;
    let link = platform.file("/rec/once.wav", &wav(2000, 9));
    let first = hung_up("once", &link, 0);
    assert_eq!(app.post_callback(first.clone()).await.code, "000000");
    assert_eq!(settled(&app, "once").await["state"], "kept");
    assert_eq!(app.post_callback(first).await.code, "000000", "a duplicate");
    assert_eq!(
        app.post_callback(hung_up("once", &link, 1)).await.code,
        "000000"
    );
    delivered(&app, "ivrhook:recordings", 2).await;
    let (_, timeline) = app.get("/v1/calls/once").await;
    assert_eq!(timeline["reports"].as_array().unwrap().len(), 2);
    assert_eq!(timeline["recording"]["state"], "kept");
    assert_eq!(platform.requests("/rec/once.wav"), [200], "fetched once");
    app.stop().await;
}
