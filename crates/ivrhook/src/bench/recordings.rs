//! `ivrhook bench recordings`: recordings kept per second and MB/s, files of `--size` served by
//! the bench, next to a plain copy of the same files by the bench itself (a reqwest GET
//! streamed into the same kind of store, a directory, with the same part size and syncs) in
//! one run, rounds alternating. The server under test fetches `max_in_flight` (8) at once; the
//! copy runs as many at once.

use super::{server::ServerProc, Report};
use axum::{body::Bytes, routing::get, Router};
use futures_util::StreamExt;
use object_store::{local::LocalFileSystem, path::Path as Key, ObjectStoreExt};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::{path::Path, sync::Arc, time::Duration};
use tokio::time::Instant;

#[derive(Debug, Clone)]
pub struct Options {
    /// Recordings a round.
    pub files: u64,
    /// Bytes each.
    pub size: usize,
    /// Rounds of each (copy, then ivrhook, alternating).
    pub rounds: u32,
}

/// Fetches at once, both ways: the recordings' default `max_in_flight`.
const AT_ONCE: usize = 8;
const APP: &str = "247e35ff320a4142a105024055c367cf";

/// Serves `size` bytes at every `/rec/{name}`; its base URL.
async fn platform(size: usize) -> Result<String, String> {
    let body = Bytes::from(vec![7u8; size]);
    let app = Router::new().route("/rec/{name}", get(move || async move { body.clone() }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(format!("http://{addr}"))
}

/// The plain copy: each file streamed into `dir` as a multipart upload, hashed; seconds taken.
async fn copy(dir: &Path, base: &str, round: u32, o: &Options) -> Result<f64, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let store = Arc::new(
        LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| e.to_string())?
            .with_fsync(true),
    );
    let client = reqwest::Client::new();
    let started = Instant::now();
    let copies = futures_util::stream::iter(0..o.files).map(|n| {
        let (store, client) = (Arc::clone(&store), client.clone());
        let url = format!("{base}/rec/copy-{round}-{n}.wav");
        async move {
            let mut response = client.get(url).send().await.map_err(|e| e.to_string())?;
            let upload = store
                .put_multipart(&Key::from(format!("copy-{round}-{n}.wav")))
                .await;
            let mut upload = object_store::WriteMultipart::new_with_chunk_size(
                upload.map_err(|e| e.to_string())?,
                256 << 10,
            );
            let mut sha = Sha256::new();
            while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
                sha.update(&chunk);
                upload.put(chunk);
                upload
                    .wait_for_capacity(1)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            upload.finish().await.map_err(|e| e.to_string())?;
            Ok::<_, String>(sha.finalize())
        }
    });
    let done: Vec<_> = copies.buffer_unordered(AT_ONCE).collect().await;
    done.into_iter().collect::<Result<Vec<_>, _>>()?;
    Ok(started.elapsed().as_secs_f64())
}

/// ivrhook keeping them: reports posted, then every recording kept; seconds and server CPU.
async fn keep(
    server: &ServerProc,
    base: &str,
    round: u32,
    o: &Options,
) -> Result<(f64, f64), String> {
    let client = reqwest::Client::new();
    let target = format!("http://{}", server.addr);
    let (cpu, started) = (server.cpu_seconds(), Instant::now());
    // Posted as a platform would, many at once: the reports' intake is not what is measured.
    let posts = futures_util::stream::iter(0..o.files).map(|n| {
        let call = format!("keep-{round}-{n}");
        let notice = json!({"fileName": format!("{base}/rec/{call}.wav"), "reason": 16});
        let report = json!({"appId": APP, "callId": call, "event": "multrpt", "status": 1,
            "result": [], "hungup": notice.to_string()});
        client
            .post(format!("{target}/callback"))
            .json(&report)
            .send()
    });
    let answers: Vec<_> = posts.buffer_unordered(32).collect().await;
    for answer in answers {
        answer.map_err(|e| format!("posting a report: {e}"))?;
    }
    let want = f64::from(round + 1) * o.files as f64;
    let deadline = started + Duration::from_secs(600);
    while kept(&client, &target).await < want {
        if Instant::now() > deadline {
            return Err("the recordings were not all kept within 10 minutes".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok((started.elapsed().as_secs_f64(), server.cpu_seconds() - cpu))
}

async fn kept(client: &reqwest::Client, target: &str) -> f64 {
    let text = match client.get(format!("{target}/metrics")).send().await {
        Ok(r) => r.text().await.unwrap_or_default(),
        Err(_) => return 0.0,
    };
    (text.lines())
        .find_map(|l| {
            l.strip_prefix("ivrhook_recordings_kept_total ")?
                .parse()
                .ok()
        })
        .unwrap_or(0.0)
}

pub async fn run(dir: &Path, o: &Options) -> Result<Report, String> {
    let base = platform(o.size).await?;
    let config = format!(
        "[recordings]\nstore = \"file://{}\"\nmax_in_flight = {AT_ONCE}\n\
         [[apps]]\nid = \"{APP}\"\nrecordings = true\n",
        dir.join("kept").display()
    );
    std::fs::write(dir.join("ivrhook.toml"), config).map_err(|e| e.to_string())?;
    let server = ServerProc::start(
        dir,
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--config",
            "ivrhook.toml",
        ],
    )
    .await?;
    let (mut copies, mut keeps, mut cpu) = (Vec::new(), Vec::new(), 0.0);
    for round in 0..o.rounds {
        copies.push(copy(&dir.join("copied"), &base, round, o).await?);
        let (seconds, used) = keep(&server, &base, round, o).await?;
        keeps.push(seconds);
        cpu += used;
    }
    server.stop().await;
    let total = |v: &[f64]| v.iter().sum::<f64>();
    let files = o.files as f64 * f64::from(o.rounds);
    let mb = files * o.size as f64 / 1e6;
    let (copy_s, keep_s) = (total(&copies), total(&keeps));
    Ok(Report {
        json: json!({
            "bench": "recordings", "files": files, "size_bytes": o.size, "at_once": AT_ONCE,
            "copy": {"files_per_sec": files / copy_s, "mb_per_sec": mb / copy_s, "rounds_s": copies},
            "kept": {"files_per_sec": files / keep_s, "mb_per_sec": mb / keep_s, "rounds_s": keeps,
                     "server_cpu_ms_per_file": cpu * 1e3 / files},
            "ratio_to_copy": copy_s / keep_s,
            "target_ratio": 0.8,
        }),
    })
}
