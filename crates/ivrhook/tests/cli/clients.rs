//! Every real HTTP client stack reads the receiver's answers: the spec's two examples, a body
//! over `inbound.max_body_bytes` by `Content-Length` and chunked (100 tries each), a gzip body,
//! a gzip bomb and an unknown encoding, through Python's `http.client` and `requests`, Node's
//! `fetch`, Java's `HttpClient`, curl and reqwest, against `ivrhook serve`. A client that
//! keeps connections alive sends all of them on one: a refusal leaves it usable.

use crate::proc::*;
use serde_json::Value;
use std::{collections::BTreeMap, io::Write, path::Path};

const TRIES: usize = 100;

/// What each case was answered: codes (or `error: …`) and the last message.
type Results = BTreeMap<String, (Vec<String>, String)>;

fn clients_dir() -> String {
    format!("{}/tests/clients", env!("CARGO_MANIFEST_DIR"))
}

fn fixtures_dir() -> String {
    format!("{}/../../fixtures", env!("CARGO_MANIFEST_DIR"))
}

/// Runs a client program; a runtime missing from the machine fails the test, naming it.
async fn external(program: &str, args: &[&str], install: &str) -> Results {
    let out = tokio::process::Command::new(program)
        .args(args)
        .output()
        .await
        .unwrap_or_else(|e| panic!("{program} cannot run ({e}): install {install}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse(&stdout)
}

fn parse(lines: &str) -> Results {
    (lines.lines())
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            let codes = (v["codes"].as_array().unwrap().iter())
                .map(|c| c.as_str().unwrap().to_owned())
                .collect();
            let msg = v["msg"].as_str().unwrap_or("").to_owned();
            (v["case"].as_str().unwrap().to_owned(), (codes, msg))
        })
        .collect()
}

/// Each case's answers as the issue asks for them.
fn check(stack: &str, results: &Results) {
    let case = |name: &str| {
        results
            .get(name)
            .unwrap_or_else(|| panic!("{stack}: no case {name} in {results:?}"))
    };
    for name in ["spec-1", "spec-2", "gzip"] {
        assert_eq!(case(name).0, ["000000"], "{stack} {name}: {:?}", case(name));
    }
    for name in ["over-length", "over-chunked"] {
        let (codes, msg) = case(name);
        let answered = codes.iter().filter(|c| *c == "108100").count();
        let others: Vec<_> = codes.iter().filter(|c| *c != "108100").collect();
        assert!(
            codes.len() == TRIES && answered >= TRIES - 1,
            "{stack} {name}: 108100 in {answered} of {}; the others: {others:?}",
            codes.len()
        );
        assert!(
            msg.contains("inbound.max_body_bytes (1048576 bytes)"),
            "{stack} {name}: {msg}"
        );
    }
    let (codes, msg) = case("gzip-bomb");
    assert_eq!(codes, &["108100"], "{stack} gzip-bomb");
    assert!(
        msg.contains("max_body_bytes") && msg.contains("gzip"),
        "{stack}: {msg}"
    );
    let (codes, msg) = case("unknown-encoding");
    assert_eq!(codes, &["108100"], "{stack} unknown-encoding");
    assert!(msg.contains("Content-Encoding: br"), "{stack}: {msg}");
}

async fn accepted(base: &str) -> f64 {
    metric(base, "ivrhook_connections_accepted_total")
        .await
        .expect("the connections counter")
}

/// Runs `client` against a fresh server and checks its answers, and that its requests (205 of
/// them) went on at most `connections` connections: a refusal leaves the connection usable.
async fn matrix<F, Fut>(stack: &str, connections: Option<f64>, client: F)
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = Results>,
{
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &[]).await;
    let before = accepted(&server.base).await;
    let results = client(server.base.clone()).await;
    // Less the connection that reads the counter.
    let opened = accepted(&server.base).await - before - 1.0;
    check(stack, &results);
    if let Some(most) = connections {
        assert!(
            (1.0..=most).contains(&opened),
            "{stack} opened {opened} connections for its requests (at most {most} expected)"
        );
    }
}

/// `client.py` with `stack` (`http.client` or `requests`).
async fn python(stack: &'static str, install: &'static str) {
    matrix(stack, Some(1.0), |base| async move {
        let script = format!("{}/client.py", clients_dir());
        let tries = TRIES.to_string();
        let args = [script.as_str(), stack, &base, &fixtures_dir(), &tries];
        external("python3", &args, install).await
    })
    .await;
}

#[tokio::test]
async fn python_http_client_reads_every_answer() {
    python("http.client", "python3").await;
}

#[tokio::test]
async fn python_requests_reads_every_answer() {
    python("requests", "python3 and `pip install requests`").await;
}

#[tokio::test]
async fn node_fetch_reads_every_answer() {
    // undici drops a connection whose answer arrives before its own write of the body has
    // been reported done, which happens now and then when the body is drained at full speed.
    matrix("fetch", Some(4.0), |base| async move {
        let script = format!("{}/client.mjs", clients_dir());
        let args = [script.as_str(), &base, &fixtures_dir(), &TRIES.to_string()];
        external("node", &args, "Node.js 18 or later (Debian: nodejs)").await
    })
    .await;
}

#[tokio::test]
async fn java_http_client_reads_every_answer() {
    matrix("java.net.http", Some(1.0), |base| async move {
        let classes = tempfile::tempdir().unwrap();
        let out = classes.path().display().to_string();
        let source = format!("{}/Client.java", clients_dir());
        external("javac", &["-d", &out, &source], "a JDK 11 or later (javac)").await;
        let args = [
            "-cp",
            &out,
            "Client",
            &base,
            &fixtures_dir(),
            &TRIES.to_string(),
        ];
        external("java", &args, "a JDK 11 or later (java)").await
    })
    .await;
}

#[tokio::test]
async fn curl_reads_every_answer() {
    // curl starts anew for each request: there is no connection to reuse.
    matrix("curl", None, |base| async move {
        let dir = tempfile::tempdir().unwrap();
        let mut results = Results::new();
        for Case {
            name,
            body,
            encoding,
            chunked,
            tries,
        } in cases()
        {
            let file = dir.path().join(name);
            std::fs::File::create(&file)
                .unwrap()
                .write_all(&body)
                .unwrap();
            let mut outcome = (Vec::new(), String::new());
            for _ in 0..tries {
                let answer = curl(&base, &file, encoding, chunked).await;
                outcome.0.push(answer.0);
                outcome.1 = answer.1;
            }
            results.insert(name.to_owned(), outcome);
        }
        results
    })
    .await;
}

async fn curl(base: &str, file: &Path, encoding: Option<&str>, chunked: bool) -> (String, String) {
    let mut cmd = tokio::process::Command::new("curl");
    cmd.args(["-sS", "--max-time", "60", "--data-binary"])
        .arg(format!("@{}", file.display()));
    if let Some(e) = encoding {
        cmd.args(["-H", &format!("Content-Encoding: {e}")]);
    }
    if chunked {
        cmd.args(["-H", "Transfer-Encoding: chunked"]);
    }
    let out = (cmd.arg(format!("{base}/callback")).output().await)
        .unwrap_or_else(|e| panic!("curl cannot run ({e}): install curl"));
    match serde_json::from_slice::<Value>(&out.stdout) {
        Ok(v) => (
            v["code"].as_str().unwrap_or("none").into(),
            v["msg"].as_str().unwrap_or("").into(),
        ),
        Err(_) => (
            format!("error: {}", String::from_utf8_lossy(&out.stderr)),
            String::new(),
        ),
    }
}

#[tokio::test]
async fn reqwest_reads_every_answer() {
    matrix("reqwest", Some(1.0), |base| async move {
        let client = crate::http();
        let mut results = Results::new();
        for Case {
            name,
            body,
            encoding,
            chunked,
            tries,
        } in cases()
        {
            let mut outcome = (Vec::new(), String::new());
            for _ in 0..tries {
                let body = match chunked {
                    false => reqwest::Body::from(body.clone()),
                    true => {
                        let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
                            body.chunks(65536).map(|c| Ok(c.to_vec())).collect();
                        reqwest::Body::wrap_stream(futures_util::stream::iter(chunks))
                    }
                };
                let mut req = client.post(format!("{base}/callback")).body(body);
                if let Some(e) = encoding {
                    req = req.header("content-encoding", e);
                }
                match req.send().await {
                    Ok(resp) => {
                        let v: Value = resp.json().await.unwrap();
                        outcome.0.push(v["code"].as_str().unwrap().to_owned());
                        outcome.1 = v["msg"].as_str().unwrap().to_owned();
                    }
                    Err(e) => outcome.0.push(format!("error: {e:?}")),
                }
            }
            results.insert(name.to_owned(), outcome);
        }
        results
    })
    .await;
}

/// A case as `clients/cases.py` makes it.
struct Case {
    name: &'static str,
    body: Vec<u8>,
    encoding: Option<&'static str>,
    chunked: bool,
    tries: usize,
}

fn cases() -> Vec<Case> {
    let spec = |f: &str| std::fs::read(format!("{}/{f}", fixtures_dir())).unwrap();
    let one = spec("seed-example-all-succeeded.json");
    let two = spec("seed-example-partly-not-executed.json");
    let big = [&b"{\"appId\":\""[..], &vec![b'x'; 3 << 20], b"\"}"].concat();
    let case = |name, body, encoding, chunked, tries| Case {
        name,
        body,
        encoding,
        chunked,
        tries,
    };
    vec![
        case("spec-1", one.clone(), None, false, 1),
        case("spec-2", two, None, false, 1),
        case("over-length", big.clone(), None, false, TRIES),
        case("over-chunked", big, None, true, TRIES),
        case("gzip", gzip(&one), Some("gzip"), false, 1),
        case(
            "gzip-bomb",
            gzip(&vec![b' '; 50 << 20]),
            Some("gzip"),
            false,
            1,
        ),
        case("unknown-encoding", one, Some("br"), false, 1),
    ]
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(data).unwrap();
    z.finish().unwrap()
}
