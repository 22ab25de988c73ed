//! The docs' runnable examples, run as a reader would run them, so they cannot drift from
//! the binary. A shell block fenced as `sh run` is run by `sh -e` in a fresh directory
//! (with the repository's `fixtures/` beside it), against `ivrhook serve` started there: with
//! `config=FILE`, on the page's block fenced `toml file=FILE`, else with no configuration.
//! `http://127.0.0.1:8080` (also the CLI's default server) stands for the server's address
//! and `127.0.0.1:9000` for a receiver the test runs. Each `#> text` line is printed by the commands above it, in order.

use crate::proc::*;
use ivrhook_testkit::Sink;
use std::path::{Path, PathBuf};

/// A fenced block of a page.
struct Block {
    page: String,
    info: Vec<String>,
    text: String,
}

impl Block {
    fn attr(&self, key: &str) -> Option<&str> {
        let prefix = format!("{key}=");
        self.info.iter().find_map(|w| w.strip_prefix(&prefix))
    }

    fn runnable(&self) -> bool {
        self.info.first().is_some_and(|l| l == "sh") && self.info.iter().any(|w| w == "run")
    }

    fn first_line(&self) -> &str {
        self.text.lines().next().unwrap_or("")
    }
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The README and every page under `docs/`.
fn pages() -> Vec<(String, String)> {
    let mut names = vec!["README.md".to_owned()];
    for entry in std::fs::read_dir(repo().join("docs")).expect("docs/ readable") {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".md") {
            names.push(format!("docs/{name}"));
        }
    }
    names.sort();
    let read = |n: &String| std::fs::read_to_string(repo().join(n)).expect("page readable");
    names.iter().map(|n| (n.clone(), read(n))).collect()
}

/// The fenced blocks of `text`, in order.
fn blocks(page: &str, text: &str) -> Vec<Block> {
    let mut found = Vec::new();
    let mut open: Option<Block> = None;
    for line in text.lines() {
        match (open.take(), line.strip_prefix("```")) {
            (None, Some(info)) => {
                let info = info.split_whitespace().map(str::to_owned).collect();
                open = Some(Block {
                    page: page.to_owned(),
                    info,
                    text: String::new(),
                });
            }
            (Some(block), Some(_)) => found.push(block),
            (Some(mut block), None) => {
                block.text.push_str(line);
                block.text.push('\n');
                open = Some(block);
            }
            (None, None) => {}
        }
    }
    found
}

/// A block that ran: the receiver that stood in for `127.0.0.1:9000`.
struct Ran {
    sink: Sink,
}

/// Runs `block` of the page whose blocks are `siblings`; `Err` says what went wrong.
async fn run(block: &Block, siblings: &[Block]) -> Result<Ran, String> {
    let (_guard, dir) = temp_dir();
    std::os::unix::fs::symlink(repo().join("fixtures"), dir.join("fixtures")).unwrap();
    let sink = Sink::start().await;
    let local = |text: &str| text.replace("127.0.0.1:9000", &sink.addr.to_string());
    let mut args = Vec::new();
    if let Some(file) = block.attr("config") {
        let config = (siblings.iter())
            .find(|b| b.info.first().is_some_and(|l| l == "toml") && b.attr("file") == Some(file))
            .ok_or_else(|| format!("{}: no block fenced `toml file={file}`", block.page))?;
        std::fs::write(dir.join(file), local(&config.text)).unwrap();
        args = vec!["--config", file];
    }
    let mut server = serve(&dir, &args).await;
    let script = local(&block.text).replace("http://127.0.0.1:8080", &server.base);
    let out = shell(&dir, &script, &server.base).await;
    server.child.start_kill().unwrap();
    let printed = String::from_utf8_lossy(&out.stdout);
    let fail = |why: String| {
        let stderr = String::from_utf8_lossy(&out.stderr);
        format!(
            "{} block `{}`: {why}\nprinted:\n{printed}{stderr}",
            block.page,
            block.first_line()
        )
    };
    if !out.status.success() {
        return Err(fail(format!("exited with {}", out.status)));
    }
    let mut rest = &printed[..];
    for expected in block.text.lines().filter_map(|l| l.strip_prefix("#> ")) {
        let at = rest
            .find(expected)
            .ok_or_else(|| fail(format!("{expected:?} not printed")))?;
        rest = &rest[at + expected.len()..];
    }
    Ok(Ran { sink })
}

/// `sh -e -c script` in `dir`, with the built `ivrhook` first on `PATH`, talking to `server`,
/// and no other `IVRHOOK_*` variable.
async fn shell(dir: &Path, script: &str, server: &str) -> std::process::Output {
    let bin = Path::new(env!("CARGO_BIN_EXE_ivrhook")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = tokio::process::Command::new("sh");
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("IVRHOOK_") {
            cmd.env_remove(name);
        }
    }
    (cmd.args(["-e", "-c", script]).env("PATH", path))
        .env("IVRHOOK_SERVER", server)
        .current_dir(dir)
        .output()
        .await
        .expect("sh runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_runnable_block_in_the_docs_runs_and_prints_what_it_shows() {
    let mut ran = 0;
    for (page, text) in pages() {
        let all = blocks(&page, &text);
        for block in all.iter().filter(|b| b.runnable()) {
            run(block, &all).await.unwrap_or_else(|e| panic!("{e}"));
            ran += 1;
        }
    }
    // The README's, the configuration's, the API's and the tools' pages have runnable blocks.
    assert!(ran >= 6, "only {ran} runnable blocks found");
}

/// The README's block fenced as `info`.
fn readme_block(info: &str) -> Block {
    let text = std::fs::read_to_string(repo().join("README.md")).expect("README readable");
    (blocks("README.md", &text).into_iter())
        .find(|b| b.info.join(" ") == info)
        .unwrap_or_else(|| panic!("the README has a block fenced `{info}`"))
}

/// "One app, one webhook" as written: what its block posts arrives at the webhook.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readmes_one_app_one_webhook_forwards_what_it_posts() {
    let config = readme_block("toml file=ivrhook.toml");
    let block = readme_block("sh run config=ivrhook.toml");
    let ran = run(&block, &[config])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let arrived = || std::future::ready(!ran.sink.hits().is_empty());
    ivrhook_testkit::eventually("the report at the webhook", arrived).await;
    let forwarded = ran.sink.hits()[0].json();
    assert_eq!(
        forwarded["callId"], "88-2018031000182918181271218-108bc381ca0f42d8-out",
        "{forwarded}"
    );
}

/// The docs test fails on a broken example: a command that fails, and one that prints
/// something other than what its block shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_example_fails_the_docs_test() {
    let fenced = |body: &str| blocks("broken.md", &format!("```sh run\n{body}```\n"));
    let typo = fenced("ivrhook config chek ivrhook.toml\n");
    let err = run(&typo[0], &typo)
        .await
        .err()
        .expect("a failing command fails");
    assert!(err.contains("exited with"), "{err}");
    let wrong = fenced(
        "curl -s http://127.0.0.1:8080/callback --data-binary '{}'\n#> {\"code\":\"000000\"\n",
    );
    let err = run(&wrong[0], &wrong)
        .await
        .err()
        .expect("a wrong answer fails");
    assert!(
        err.contains("\"{\\\"code\\\":\\\"000000\\\"\" not printed"),
        "{err}"
    );
    assert!(err.contains("108100"), "what it printed is shown: {err}");
}

/// The source modules under `crates/*/src`, as `crate` and path below `src/`, test modules aside.
fn modules() -> Vec<(String, String)> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("source dir readable") {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    let mut modules = Vec::new();
    for krate in std::fs::read_dir(repo().join("crates")).unwrap() {
        let krate = krate.unwrap().path();
        let mut files = Vec::new();
        walk(&krate.join("src"), &mut files);
        for file in files {
            let path = file
                .strip_prefix(krate.join("src"))
                .unwrap()
                .display()
                .to_string();
            if !path.ends_with("tests.rs") && !path.starts_with("tests/") {
                let name = krate.file_name().unwrap().to_string_lossy().into_owned();
                modules.push((name, path));
            }
        }
    }
    modules.sort();
    modules
}

/// docs/internals.md's module map names every module, under its crate, and nothing else.
#[test]
fn the_module_map_names_every_module() {
    let internals = std::fs::read_to_string(repo().join("docs/internals.md")).unwrap();
    let map = (internals.split("## Module map").nth(1))
        .and_then(|rest| rest.split("\n## ").next())
        .expect("docs/internals.md has a module map");
    let mut listed = Vec::new();
    for table in map.split("**crates/").skip(1) {
        let krate = table.split("**").next().unwrap().to_owned();
        for row in table.lines().filter_map(|l| l.strip_prefix("| `")) {
            listed.push((krate.clone(), row.split('`').next().unwrap().to_owned()));
        }
    }
    listed.sort();
    let modules = modules();
    let missing: Vec<_> = modules.iter().filter(|m| !listed.contains(m)).collect();
    let gone: Vec<_> = listed.iter().filter(|m| !modules.contains(m)).collect();
    assert!(
        missing.is_empty(),
        "not in docs/internals.md's module map: {missing:?}"
    );
    assert!(
        gone.is_empty(),
        "in the module map but not in the source: {gone:?}"
    );
}

/// A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces as `-`.
fn anchor(heading: &str) -> String {
    (heading.trim().to_lowercase().chars())
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// Every link from one page to another (or to an image beside it) leads to a file that is
/// there, and to a heading of it when it names one.
#[test]
fn every_link_between_the_pages_leads_somewhere() {
    let mut checked = 0;
    for (page, text) in pages() {
        let dir = repo().join(&page).parent().unwrap().to_owned();
        for link in text.split("](").skip(1).filter_map(|r| r.split(')').next()) {
            if link.contains("://") || link.starts_with('#') {
                continue;
            }
            let (file, heading) = link.split_once('#').unwrap_or((link, ""));
            let target = dir.join(file);
            let found = std::fs::read_to_string(&target);
            assert!(target.exists(), "{page}: {link} leads nowhere");
            if !heading.is_empty() {
                let headings: Vec<String> = (found.unwrap().lines())
                    .filter_map(|l| l.strip_prefix('#'))
                    .map(|h| anchor(h.trim_start_matches('#')))
                    .collect();
                assert!(
                    headings.iter().any(|h| h == heading),
                    "{page}: no #{heading} in {file}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} links found");
}
