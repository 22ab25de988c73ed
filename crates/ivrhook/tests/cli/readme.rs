//! The README's own commands, run as a newcomer would, so they cannot drift from the binary.

use crate::proc::*;
use serde_json::Value;

const README: &str = include_str!("../../../../README.md");

/// The first `sh` block after `heading`.
fn block_after(heading: &str) -> &'static str {
    fenced_after(heading, "sh")
}

/// The first block fenced as `lang` after `heading`.
fn fenced_after(heading: &str, lang: &str) -> &'static str {
    README
        .split(heading)
        .nth(1)
        .and_then(|rest| rest.split(&format!("```{lang}\n")).nth(1))
        .and_then(|rest| rest.split("```").next())
        .unwrap_or_else(|| panic!("the README has a {lang} block after {heading:?}"))
}

/// The quick start's curl commands, from a directory that is not the repository, against the
/// first-run server: the answer printed in the block's comment, then the call's timeline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readmes_try_it_commands_work_from_any_directory() {
    let (_guard, dir) = temp_dir();
    let mut server = serve(&dir, &[]).await;
    let block = block_after("Try it: post a report");
    let script = block.replace("http://127.0.0.1:8080", &server.base);
    let out = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(&script)
        .current_dir(&dir)
        .output()
        .await
        .expect("sh runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).unwrap();
    let expected = (block.lines())
        .find_map(|l| l.strip_prefix("# "))
        .expect("the block shows the answer");
    assert!(printed.starts_with(expected), "{printed}");
    let timeline: Value = serde_json::from_str(&printed[expected.len()..]).unwrap();
    assert_eq!(timeline["callId"], "88-try-it-out", "{timeline}");
    assert_eq!(
        timeline["reports"][0]["commands"][1]["dtmf"], "1",
        "{timeline}"
    );
    server.child.start_kill().unwrap();
}

/// The `ivrhook` lines of the "Trying it out" block (`simulate` and `check`), word for word
/// but for the server's address, against the first-run server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readmes_simulate_and_check_commands_run_as_written() {
    let (_guard, dir) = temp_dir();
    let mut server = serve(&dir, &[]).await;
    let lines: Vec<&str> = (block_after("## Trying it out and measuring").lines())
        .filter_map(|l| l.strip_prefix("ivrhook "))
        .collect();
    assert_eq!(lines.len(), 2, "simulate and check: {lines:?}");
    for line in lines {
        let line = line.replace("http://127.0.0.1:8080", &server.base);
        let args: Vec<&str> = line.split_whitespace().collect();
        let out = run_ok(&dir, &args).await;
        match args[0] {
            "simulate" => assert!(out.contains("answered 000000"), "{out}"),
            _ => assert!(out.contains("23 passed, 0 failed, 1 not checked"), "{out}"),
        }
    }
    server.child.start_kill().unwrap();
}

/// "One app, one webhook" as written, its URL moved to a receiver this test runs: the try-it
/// report, posted again, arrives there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readmes_one_app_one_webhook_config_forwards_the_try_it_report() {
    let (_guard, dir) = temp_dir();
    let sink = ivrhook_testkit::Sink::start().await;
    let config = fenced_after("**One app, one webhook.**", "toml")
        .replace("http://127.0.0.1:9000", &format!("http://{}", sink.addr));
    std::fs::write(dir.join("ivrhook.toml"), config).unwrap();
    let mut server = serve(&dir, &["--config", "ivrhook.toml"]).await;
    let block = block_after("Try it: post a report");
    let script = block.replace("http://127.0.0.1:8080", &server.base);
    let out = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(&script)
        .current_dir(&dir)
        .output()
        .await
        .expect("sh runs");
    assert!(out.status.success(), "{out:?}");
    let arrived = || std::future::ready(!sink.hits().is_empty());
    ivrhook_testkit::eventually("the report at the webhook", arrived).await;
    let forwarded = sink.hits()[0].json();
    assert_eq!(forwarded["callId"], "88-try-it-out", "{forwarded}");
    server.child.start_kill().unwrap();
}
