//! Recordings across a SIGKILL, and the server's memory while many are fetched at once: the
//! ivrhook binary as a process, the platform's recording server in the test.

use crate::{memory::status_kib, proc::*};
use ivrhook_testkit::{
    eventually_within, hung_up_report,
    platform::{files_in, sha256_hex as sha256, wav, Platform, Served},
};
use std::{collections::HashMap, time::Duration};

const KEEPING: &str = "[[apps]]\nid = \"247e35ff320a4142a105024055c367cf\"\nrecordings = true\n";

/// Waits, at most `limit`, until the server at `base` has kept `n` recordings.
async fn kept(base: &str, n: usize, limit: Duration) {
    let what = format!("{n} recordings kept");
    eventually_within(&what, limit, || async {
        deliveries_in(base, "ivrhook:recordings", "delivered").await >= n
    })
    .await;
}

/// 20 recordings of 5 MB from a slow platform, the server killed while some are kept and some
/// are being fetched, then started again: each ends kept once, whole, and was fetched at
/// most twice; nothing staged is left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_fetch_keeps_every_recording_once_and_whole() {
    let (_guard, dir) = temp_dir();
    std::fs::write(dir.join("ivrhook.toml"), KEEPING).unwrap();
    let platform = Platform::start().await;
    let mut served = HashMap::new();
    for i in 0..20 {
        let file = wav(5 << 19, i);
        served.insert(format!("kill-{i}"), sha256(&file));
        let slow = Served {
            bytes: file.into(),
            chunked: Some((64 << 10, Duration::from_millis(15))),
            ..Served::default()
        };
        platform.serve(&format!("/rec/kill-{i}.wav"), slow);
    }
    let mut server = serve(&dir, &["--config", "ivrhook.toml"]).await;
    for i in 0..20 {
        let link = platform.url(&format!("/rec/kill-{i}.wav"));
        post_accepted(
            &server.base,
            &hung_up_report(&format!("kill-{i}"), &link, 0),
        )
        .await;
    }
    kept(&server.base, 3, Duration::from_secs(120)).await;
    server.child.start_kill().unwrap();
    server.child.wait().await.unwrap();
    let cut: usize = (0..20)
        .filter(|i| platform.requests(&format!("/rec/kill-{i}.wav")).len() == 1)
        .count();
    let server = serve(&dir, &["--config", "ivrhook.toml"]).await;
    kept(&server.base, 20, Duration::from_secs(180)).await;
    assert_eq!(
        deliveries_in(&server.base, "ivrhook:recordings", "pending").await,
        0
    );
    for (call, sha) in &served {
        let timeline = get_json(&format!("{}/v1/calls/{call}", server.base)).await;
        assert_eq!(timeline["recording"]["state"], "kept", "{call}");
        assert_eq!(timeline["recording"]["sha256"], sha.as_str(), "{call}");
        let fetched = platform.requests(&format!("/rec/{call}.wav")).len();
        assert!((1..=2).contains(&fetched), "{call} fetched {fetched} times");
    }
    let files = files_in(&dir.join("recordings"));
    assert_eq!(
        files.len(),
        20,
        "one object each, nothing staged: {files:?}"
    );
    let mut on_disk: Vec<String> = files
        .iter()
        .map(|f| sha256(&std::fs::read(f).unwrap()))
        .collect();
    let mut want: Vec<String> = served.values().cloned().collect();
    on_disk.sort();
    want.sort();
    assert_eq!(on_disk, want, "every object whole");
    let again = (0..20).filter(|i| platform.requests(&format!("/rec/kill-{i}.wav")).len() == 2);
    assert!(
        again.count() >= 1,
        "the kill cut a fetch short ({cut} had started once)"
    );
}

/// 50 recordings of 20 MB fetched at once (`max_in_flight = 50`; the platform holds every
/// body until all 50 are asked for) into a directory: the server's peak resident memory
/// stays within 100 MB of what it held idle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_large_recordings_at_once_hold_little_memory() {
    let (_guard, dir) = temp_dir();
    let config = format!("[recordings]\nmax_in_flight = 50\n{KEEPING}");
    std::fs::write(dir.join("ivrhook.toml"), config).unwrap();
    let platform = Platform::start().await;
    let file: bytes::Bytes = wav(10 << 20, 1).into();
    for i in 0..50 {
        let paced = Served {
            bytes: file.clone(),
            chunked: Some((256 << 10, Duration::from_millis(10))),
            ..Served::default()
        };
        platform.serve(&format!("/rec/big-{i}.wav"), paced);
    }
    platform.hold_bodies_until(50);
    let server = serve(&dir, &["--config", "ivrhook.toml"]).await;
    let pid = server.child.id().unwrap();
    let idle = status_kib(pid, "VmRSS");
    for i in 0..50 {
        let link = platform.url(&format!("/rec/big-{i}.wav"));
        post_accepted(&server.base, &hung_up_report(&format!("big-{i}"), &link, 0)).await;
    }
    kept(&server.base, 50, Duration::from_secs(300)).await;
    let peak = status_kib(pid, "VmHWM");
    let most_at_once = platform.most_at_once();
    println!("idle {idle} KiB, peak {peak} KiB, {most_at_once} fetches at once at most");
    assert!(
        most_at_once == 50,
        "the fetches ran at once ({most_at_once})"
    );
    let bound = 100_000_000 / 1024; // 100 MB, in KiB
    assert!(
        peak < idle + bound,
        "peak {peak} KiB against {idle} KiB idle"
    );
    let files = files_in(&dir.join("recordings"));
    assert_eq!(files.len(), 50);
    assert!(files
        .iter()
        .all(|f| std::fs::metadata(f).unwrap().len() == file.len() as u64));
}

/// `ivrhook simulate --recordings` against a server whose app keeps recordings: every
/// hung-up call's recording is fetched and kept, some only after answering 404 at first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulate_serves_recordings_that_go_pending_then_kept() {
    let (_guard, dir) = temp_dir();
    let quick = "[recordings]\nretry_schedule = [\"0s\", \"200ms\", \"200ms\", \"200ms\"]\n";
    std::fs::write(dir.join("ivrhook.toml"), format!("{quick}{KEEPING}")).unwrap();
    let server = serve(&dir, &["--config", "ivrhook.toml"]).await;
    let url = format!("{}/callback", server.base);
    let args = [
        "simulate",
        "--target",
        &url,
        "--calls",
        "30",
        "--hangup-ratio",
        "0.5",
        "--recordings",
        "--recordings-wait",
        "60s",
    ];
    let out = run_ok(&dir, &args).await;
    let kept = deliveries_in(&server.base, "ivrhook:recordings", "delivered").await;
    assert!(kept >= 5, "about half of 30 hung up: {kept}\n{out}");
    assert!(
        out.contains(&format!("recordings fetched: {kept} of {kept}")),
        "{out}"
    );
    let listed = "/v1/deliveries?destination=ivrhook:recordings&limit=100";
    let page = get_json(&format!("{}{listed}", server.base)).await;
    let attempts: Vec<i64> = (page["deliveries"].as_array().unwrap().iter())
        .map(|d| d["attempts"].as_i64().unwrap())
        .collect();
    assert!(
        attempts.contains(&3),
        "some were not ready at first: {attempts:?}"
    );
    assert!(attempts.contains(&1), "{attempts:?}");
    let files = files_in(&dir.join("recordings"));
    assert_eq!(files.len(), kept);
    let wav = std::fs::read(&files[0]).unwrap();
    assert_eq!((&wav[..4], &wav[8..12]), (&b"RIFF"[..], &b"WAVE"[..]));
}
