//! Recordings kept: a hung-up report's link fetched from the platform into the recordings
//! store and served back byte for byte (whole and by range); a link not ready yet, refused,
//! too large or pointing inward; a duplicate fetching nothing again. Every case runs on each
//! store (a directory, SeaweedFS's S3) and each database (SQLite, PostgreSQL).

use crate::helpers::*;
use ivrhook_testkit::{
    platform::{files_in, sha256_hex, wav, Platform, Served},
    s3,
};
use serde_json::Value;
use std::time::Duration;

/// Where a test's server keeps reports and recordings.
#[derive(Debug, Clone, Copy)]
enum Backing {
    SqliteDirectory,
    PostgresDirectory,
    SqliteS3,
    PostgresS3,
}

/// A server and its recordings store.
struct Keeping {
    app: TestApp,
    dir: Option<tempfile::TempDir>,
    bucket: Option<String>,
}

impl Keeping {
    /// A server on `backing` whose app keeps recordings; `recordings` and `app` add keys to
    /// `[recordings]` and to the app.
    async fn start(backing: Backing, name: &str, recordings: &str, app: &str) -> Keeping {
        let (dir, bucket) = match backing {
            Backing::SqliteDirectory | Backing::PostgresDirectory => {
                (Some(tempfile::tempdir().unwrap()), None)
            }
            Backing::SqliteS3 | Backing::PostgresS3 => (None, Some(s3::bucket(name).await)),
        };
        let store = match (&dir, &bucket) {
            (Some(d), _) => format!("store = \"file://{}\"\n", d.path().display()),
            (_, Some(b)) => s3::settings(b),
            _ => unreachable!(),
        };
        let quick = match recordings.contains("retry_schedule") {
            true => "",
            false => QUICK,
        };
        let toml = format!(
            "[recordings]\n{quick}{store}{recordings}[[apps]]\nid = \"{APP}\"\nrecordings = true\n{app}"
        );
        let app = match backing {
            Backing::SqliteDirectory | Backing::SqliteS3 => spawn_with(&toml).await,
            _ => spawn_on_postgres(&format!("rec_{name}"), &toml).await,
        };
        Keeping { app, dir, bucket }
    }

    /// The objects stored, staged uploads and unfinished multipart uploads included.
    async fn objects(&self) -> Vec<String> {
        if let Some(dir) = &self.dir {
            let files = files_in(dir.path()).into_iter();
            return files.map(|f| f.display().to_string()).collect();
        }
        let bucket = self.bucket.as_ref().unwrap();
        let mut keys = s3::keys(bucket).await;
        keys.extend((0..s3::uploads(bucket).await).map(|_| "(an unfinished upload)".into()));
        keys
    }

    async fn stop(self) {
        self.app.stop().await;
        if let Some(bucket) = &self.bucket {
            s3::remove(bucket).await;
        }
    }
}

/// Runs each case on every backing.
macro_rules! on_every_backing {
    ($($case:ident),* $(,)?) => {
        $(
            mod $case {
                use super::Backing::*;
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite_directory() { super::$case(SqliteDirectory, "sd").await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres_directory() { super::$case(PostgresDirectory, "pd").await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite_s3() { super::$case(SqliteS3, "ss").await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres_s3() { super::$case(PostgresS3, "ps").await }
            }
        )*
    };
}

on_every_backing!(
    kept_byte_for_byte,
    not_ready_then_kept_and_refused_failed,
    over_max_bytes_fails_and_leaves_nothing,
    private_links_refused_unless_allowed,
    a_second_report_fetches_nothing_again,
    kept_is_announced_once,
    old_recordings_are_pruned_unless_a_fetch_is_pending,
);

/// Quick retries, so a link that is not ready is fetched again soon.
const QUICK: &str = "retry_schedule = [\"0s\", \"100ms\", \"100ms\", \"100ms\"]\n";

/// A hung-up report of `call` whose recording is at `link`.
pub(crate) fn hung_up(call: &str, link: &str, n: u32) -> String {
    ivrhook_testkit::hung_up_report(call, link, n).to_string()
}

/// The call's `recording` once it is no longer pending and its attempt is recorded.
pub(crate) async fn settled(app: &TestApp, call: &str) -> Value {
    let recording = || async {
        let (_, timeline) = app.get(&format!("/v1/calls/{call}")).await;
        timeline["recording"].clone()
    };
    eventually_within(
        "the recording to be kept or failed",
        Duration::from_secs(30),
        || async {
            // Kept is the row; the fetch's attempt is recorded just after it.
            let r = recording().await;
            r["state"] == "failed" || (r["state"] == "kept" && r["attempts"] != 0)
        },
    )
    .await;
    recording().await
}

async fn fetch(app: &TestApp, path: &str, range: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(app.url(path));
    if let Some(r) = range {
        request = request.header("range", r);
    }
    request.send().await.unwrap()
}

/// Kept, then served whole and by ranges, the same bytes the platform served.
async fn kept_byte_for_byte(backing: Backing, tag: &str) {
    let platform = Platform::start().await;
    let k = Keeping::start(backing, &format!("kept_{tag}"), "", "").await;
    let app = &k.app;
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
    assert_eq!(recording["sha256"], sha256_hex(&file));
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
    assert_eq!(h["etag"], format!("\"{}\"", sha256_hex(&file)).as_str());
    assert_eq!(h["accept-ranges"], "bytes");
    assert_eq!(sha256_hex(&whole.bytes().await.unwrap()), sha256_hex(&file));
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
    assert_eq!(app.metric("ivrhook_recordings_kept_total").await, 1.0);
    let bytes = app.metric("ivrhook_recordings_kept_bytes_total").await;
    assert_eq!(bytes, file.len() as f64);
    assert_eq!(
        app.metric("ivrhook_recording_fetch_seconds_count").await,
        1.0
    );
    let pending = "ivrhook_destination_backlog{destination=\"ivrhook:recordings\"}";
    eventually("no fetch pending", || async {
        app.metric(pending).await == 0.0
    })
    .await;
    let key = recording["key"].as_str().unwrap();
    let objects = k.objects().await;
    assert_eq!(objects.len(), 1, "one object: {objects:?}");
    assert!(objects[0].ends_with(key), "{objects:?} holds {key}");
    k.stop().await;
}

/// 404 twice, then kept on the third try; 403: failed at once, with the reason.
async fn not_ready_then_kept_and_refused_failed(backing: Backing, tag: &str) {
    let platform = Platform::start().await;
    let k = Keeping::start(backing, &format!("late_{tag}"), "", "").await;
    let app = &k.app;
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
    let kept = settled(app, "late").await;
    assert_eq!(kept["state"], "kept", "{kept}");
    assert_eq!(kept["attempts"], 3, "{kept}");
    assert_eq!(platform.requests("/rec/late.wav"), [404, 404, 200]);
    let failed = settled(app, "refused").await;
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
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("(failed)"), "{body}");
    let (_, listed) = app.get("/v1/recordings?state=failed").await;
    let listed = listed["recordings"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["callId"], "refused");
    assert_eq!(listed[0]["link"], refused.as_str());
    assert_eq!(listed[0]["reason"], "the platform answered 403 Forbidden");
    let (_, pending) = app.get("/v1/recordings?state=pending").await;
    assert_eq!(pending["recordings"], serde_json::json!([]));
    assert_eq!(app.get("/v1/recordings?state=kept").await.0, 422);
    let by_state = |s: &'static str| format!("ivrhook_recordings{{state=\"{s}\"}}");
    eventually("the failed one counted", || async {
        app.metric(&by_state("failed")).await == 1.0
            && app.metric(&by_state("pending")).await == 0.0
    })
    .await;
    // A failed one is fetched again on request.
    let retry = format!("/v1/deliveries/{}/retry", listed[0]["deliveryId"]);
    let answer = app.client.post(app.url(&retry)).send().await.unwrap();
    assert_eq!(answer.status(), 202, "{retry}");
    eventually("the retry to be fetched", || async {
        platform.requests("/rec/refused.wav").len() == 2
    })
    .await;
    assert_eq!(settled(app, "refused").await["state"], "failed");
    k.stop().await;
}

/// Over max_bytes, said by Content-Length or found while streaming: failed, nothing stored.
async fn over_max_bytes_fails_and_leaves_nothing(backing: Backing, tag: &str) {
    let platform = Platform::start().await;
    let limit = "max_bytes = \"100KiB\"\n";
    let k = Keeping::start(backing, &format!("big_{tag}"), limit, "").await;
    let app = &k.app;
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
        let failed = settled(app, call).await;
        assert_eq!(failed["state"], "failed", "{failed}");
        let reason = failed["reason"].as_str().unwrap();
        assert!(
            reason.contains("larger than max_bytes (102400 bytes"),
            "{reason}"
        );
    }
    assert_eq!(
        k.objects().await,
        Vec::<String>::new(),
        "no object, no staged part"
    );
    k.stop().await;
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

/// A link to a private address: failed without a request, unless the app allows private.
async fn private_links_refused_unless_allowed(backing: Backing, tag: &str) {
    let platform = Platform::on((private_address(), 0).into()).await;
    let inward = platform.file("/rec/inward.wav", &wav(1000, 5));
    let k = Keeping::start(backing, &format!("refuse_{tag}"), "", "").await;
    let refusing = &k.app;
    assert_eq!(
        refusing
            .post_callback(hung_up("inward", &inward, 0))
            .await
            .code,
        "000000"
    );
    let failed = settled(refusing, "inward").await;
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
    k.stop().await;
    let allow = "allow_private = true\n";
    let k = Keeping::start(backing, &format!("allow_{tag}"), "", allow).await;
    assert_eq!(
        k.app
            .post_callback(hung_up("inward", &inward, 0))
            .await
            .code,
        "000000"
    );
    let kept = settled(&k.app, "inward").await;
    assert_eq!(kept["state"], "kept", "{kept}");
    k.stop().await;
}

/// The same report again (a duplicate), then the call's second report with the same link.
async fn a_second_report_fetches_nothing_again(backing: Backing, tag: &str) {
    let platform = Platform::start().await;
    let k = Keeping::start(backing, &format!("once_{tag}"), "", "").await;
    let app = &k.app;
    let link = platform.file("/rec/once.wav", &wav(2000, 9));
    let first = hung_up("once", &link, 0);
    assert_eq!(app.post_callback(first.clone()).await.code, "000000");
    assert_eq!(settled(app, "once").await["state"], "kept");
    assert_eq!(app.post_callback(first).await.code, "000000", "a duplicate");
    assert_eq!(
        app.post_callback(hung_up("once", &link, 1)).await.code,
        "000000"
    );
    delivered(app, "ivrhook:recordings", 2).await;
    let (_, timeline) = app.get("/v1/calls/once").await;
    assert_eq!(timeline["reports"].as_array().unwrap().len(), 2);
    assert_eq!(timeline["recording"]["state"], "kept");
    assert_eq!(platform.requests("/rec/once.wav"), [200], "fetched once");
    k.stop().await;
}

/// A recording that fails is announced as `recording.failed` where operator events go, as the
/// schema describes it, instead of `delivery.dead`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_recording_is_announced_to_the_operators() {
    let platform = Platform::start().await;
    let ops = ivrhook_testkit::Sink::start().await;
    let mut pager = crate::alerts::Pager::start("recordings").await;
    let toml = format!(
        "[recordings]\n{QUICK}[alerts]\ndestinations = [\"ops\", \"pager\"]\n\
         [[apps]]\nid = \"{APP}\"\nrecordings = true\n\
         [[destinations]]\nname = \"ops\"\nkind = \"webhook\"\nurl = \"{}\"\n{}",
        ops.url(),
        pager.destination()
    );
    let app = spawn_with(&toml).await;
    let refused = platform.serve(
        "/rec/forbidden.wav",
        Served {
            always: Some(403),
            ..Served::default()
        },
    );
    assert_eq!(
        app.post_callback(hung_up("forbidden", &refused, 0))
            .await
            .code,
        "000000"
    );
    eventually("recording.failed announced", || async {
        !crate::alerts::at(&ops).is_empty()
    })
    .await;
    let events = crate::alerts::at(&ops);
    assert_eq!(events.len(), 1, "{events:?}");
    let e = &events[0];
    assert_eq!(e["type"], "recording.failed");
    assert_eq!(
        (e["app"].as_str(), e["call"].as_str()),
        (Some(APP), Some("forbidden"))
    );
    assert_eq!(e["link"], refused.as_str());
    assert_eq!(e["reason"], "the platform answered 403 Forbidden");
    assert_eq!(e["attempts"], 1);
    let failed = settled(&app, "forbidden").await;
    assert_eq!(e["delivery"], failed["deliveryId"]);
    pager.has_the_same_as(&events).await;
    // Counting the recordings destination's backlog for the alerts (its bound is u64::MAX)
    // goes on: the failed one is counted.
    let failed = "ivrhook_recordings{state=\"failed\"}";
    eventually("the failed recording counted", || async {
        app.metric(failed).await == 1.0
    })
    .await;
    app.stop().await;
}

/// A destination whose filter takes `recording.kept` gets one message for the kept recording
/// (none for the call's second report, which finds it kept), and no reports.
async fn kept_is_announced_once(backing: Backing, tag: &str) {
    let platform = Platform::start().await;
    let archive = ivrhook_testkit::Sink::start().await;
    let taker = format!(
        "[[destinations]]\nname = \"archive\"\nkind = \"webhook\"\nurl = \"{}\"\n\
         [destinations.filter]\nevent = \"recording.kept\"\n",
        archive.url()
    );
    let k = Keeping::start(backing, &format!("told_{tag}"), "", &taker).await;
    let app = &k.app;
    let link = platform.file("/rec/told.wav", &wav(3000, 4));
    assert_eq!(
        app.post_callback(hung_up("told", &link, 0)).await.code,
        "000000"
    );
    assert_eq!(
        app.post_callback(hung_up("told", &link, 1)).await.code,
        "000000"
    );
    delivered(app, "ivrhook:recordings", 2).await;
    delivered(app, "archive", 1).await;
    let hits = archive.hits();
    assert_eq!(hits.len(), 1, "one message, no report");
    let m = hits[0].json();
    let (_, timeline) = app.get("/v1/calls/told").await;
    let r = &timeline["recording"];
    assert_eq!(m["schemaVersion"], 1);
    assert_eq!(m["event"], "recording.kept");
    assert_eq!(
        (m["appId"].as_str(), m["callId"].as_str()),
        (Some(APP), Some("told"))
    );
    for (field, shown) in [
        ("key", "key"),
        ("size", "size"),
        ("sha256", "sha256"),
        ("link", "link"),
        ("contentType", "contentType"),
        ("keptAt", "keptAt"),
        ("url", "url"),
    ] {
        assert_eq!(m[field], r[shown], "{field}: {m}");
    }
    let store = m["store"].as_str().unwrap();
    assert!(
        store.starts_with("file://") || store.starts_with("s3://"),
        "{store}"
    );
    k.stop().await;
}

/// `[retention] recordings`: an old recording's object and row go; one whose call has a fetch
/// pending stays.
async fn old_recordings_are_pruned_unless_a_fetch_is_pending(backing: Backing, tag: &str) {
    let platform = Platform::start().await;
    // Retries an hour apart: the call's second fetch stays pending through the test.
    let slow = "retry_schedule = [\"0s\", \"1h\"]\n\
                [retention]\nrecordings = \"3s\"\nevery = \"100ms\"\n";
    let k = Keeping::start(backing, &format!("prune_{tag}"), slow, "").await;
    let app = &k.app;
    let a = platform.file("/rec/a.wav", &wav(1000, 1));
    let b = platform.file("/rec/b.wav", &wav(1000, 2));
    let b_again = platform.serve(
        "/rec/b2.wav",
        Served {
            always: Some(404),
            ..Served::default()
        },
    );
    assert_eq!(
        app.post_callback(hung_up("prune-a", &a, 0)).await.code,
        "000000"
    );
    assert_eq!(
        app.post_callback(hung_up("prune-b", &b, 0)).await.code,
        "000000"
    );
    assert_eq!(settled(app, "prune-a").await["state"], "kept");
    let b_key = settled(app, "prune-b").await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    // Within the 3 s the recordings are kept, prune-b gets a fetch that stays pending.
    assert_eq!(
        app.post_callback(hung_up("prune-b", &b_again, 1))
            .await
            .code,
        "000000"
    );
    eventually("prune-a's recording pruned", || async {
        let (_, timeline) = app.get("/v1/calls/prune-a").await;
        timeline["recording"]["state"] == "removed"
    })
    .await;
    let objects = k.objects().await;
    assert_eq!(objects.len(), 1, "{objects:?}");
    assert!(
        objects[0].ends_with(&b_key),
        "prune-b's is kept: {objects:?}"
    );
    let pruned = "ivrhook_pruned_rows_total{kind=\"recordings\"}";
    assert_eq!(app.metric(pruned).await, 1.0);
    assert_eq!(
        fetch(app, "/v1/calls/prune-a/recording", None)
            .await
            .status(),
        404
    );
    let (_, b_now) = app.get("/v1/calls/prune-b").await;
    assert_eq!(b_now["recording"]["state"], "pending", "its newest fetch");
    k.stop().await;
}

/// The ```toml blocks of `text`.
fn toml_blocks(text: &str) -> Vec<&str> {
    (text.split("```toml\n").skip(1))
        .filter_map(|rest| rest.split("```").next())
        .collect()
}

/// The README's Recordings section and docs/recordings.md: each configuration is valid and
/// says what the text says; the message example has the fields the test above checks.
#[test]
fn the_documented_configurations_are_valid() {
    use ivrhook_engine::recordings::RECORDINGS;
    use ivrhook_server::config::Config;
    let readme = include_str!("../../../../README.md");
    let section = readme.split("## Recordings\n").nth(1).unwrap();
    let section = section.split("\n## ").next().unwrap();
    let page = include_str!("../../../../docs/recordings.md");
    let blocks: Vec<(&str, &str)> = (toml_blocks(section).into_iter().map(|b| ("README.md", b)))
        .chain(
            toml_blocks(page)
                .into_iter()
                .map(|b| ("docs/recordings.md", b)),
        )
        .collect();
    assert_eq!(
        blocks.len(),
        5,
        "the README's directory and S3, and the page's directory, S3 and destination"
    );
    let stores: Vec<String> = (blocks.iter())
        .map(|(at, b)| {
            let c = Config::from_toml(b, at).unwrap_or_else(|e| panic!("{at}: {e}\n{b}"));
            let vault = c.recordings.vault.as_ref().unwrap().shown().to_owned();
            let keeps = c
                .recordings
                .destination
                .as_ref()
                .is_some_and(|d| d.name == RECORDINGS);
            assert_eq!(keeps, !b.contains("kind = \"webhook\""), "{at}: {b}");
            vault
        })
        .collect();
    assert_eq!(stores[0], "file:///var/lib/ivrhook/recordings");
    assert_eq!(stores[1], "s3://ivrhook-recordings/calls");
    assert_eq!(stores[2], "file:///var/lib/ivrhook/recordings");
    assert_eq!(stores[3], "s3://ivrhook-recordings/calls");
    let forwarding = include_str!("../../../../docs/forwarding.md");
    let kept = forwarding.split("**`recording.kept`.**").nth(1).unwrap();
    let example = kept
        .split("```json\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    let example: Value = serde_json::from_str(example).unwrap();
    for field in [
        "schemaVersion",
        "event",
        "appId",
        "callId",
        "reportId",
        "link",
        "store",
        "key",
        "size",
        "sha256",
        "contentType",
        "keptAt",
        "url",
    ] {
        assert!(
            example.get(field).is_some(),
            "docs/forwarding.md's example has {field}"
        );
    }
}

/// Redirects are followed, at most five, and each target is checked as the link was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_are_followed_at_most_five_times_each_checked() {
    let platform = Platform::start().await;
    let inward = Platform::on((private_address(), 0).into()).await;
    let k = Keeping::start(Backing::SqliteDirectory, "hops", "", "").await;
    let app = &k.app;
    let file = wav(1000, 8);
    let last = platform.file("/rec/final.wav", &file);
    let hop = |from: &str, to: String| {
        let served = Served {
            redirect: Some(to),
            ..Served::default()
        };
        platform.serve(from, served)
    };
    let second = hop("/rec/hop-2", last);
    let first = hop("/rec/hop-1", second);
    let looping = hop("/rec/loop", platform.url("/rec/loop"));
    let private = hop("/rec/inward", inward.file("/rec/x.wav", &file));
    for (call, link) in [("hops", &first), ("loop", &looping), ("inward", &private)] {
        assert_eq!(
            app.post_callback(hung_up(call, link, 0)).await.code,
            "000000"
        );
    }
    let kept = settled(app, "hops").await;
    assert_eq!(kept["state"], "kept", "{kept}");
    assert_eq!(
        kept["link"],
        first.as_str(),
        "the link as the report gave it"
    );
    assert_eq!(kept["sha256"], sha256_hex(&file));
    let looped = settled(app, "loop").await;
    assert_eq!(looped["reason"], "more than 5 redirects", "{looped}");
    assert_eq!(
        platform.requests("/rec/loop").len(),
        6,
        "the link and five redirects"
    );
    let refused = settled(app, "inward").await;
    let reason = refused["reason"].as_str().unwrap();
    assert!(reason.contains("address: not fetched"), "{reason}");
    assert!(inward.requests("/rec/x.wav").is_empty());
    k.stop().await;
}
