//! NATS for the forwarding tests: the machine's server (`TEST_NATS_URL`, default
//! nats://127.0.0.1:4222) with a fresh stream per test, or a server of a test's own that it
//! can kill and start again.

use async_nats::jetstream::{self, stream};
use std::{net::SocketAddr, path::PathBuf, process::Stdio, time::Duration};
use tokio::process::{Child, Command};

const START: &str = "start-stop-daemon --start --oknodo --background --exec \
    /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server";

pub fn nats_url() -> String {
    std::env::var("TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

pub async fn jetstream_at(url: &str) -> jetstream::Context {
    let client = async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(5))
        .connect(url)
        .await
        .unwrap_or_else(|e| panic!("NATS is not reachable at {url} ({e}); start it with: {START}"));
    jetstream::new(client)
}

/// A new, empty stream named `name` on the machine's server, listening on `subjects`.
pub async fn fresh_stream(name: &str, subjects: &str) -> stream::Stream {
    let js = jetstream_at(&nats_url()).await;
    let _ = js.delete_stream(name).await;
    js.create_stream(stream::Config {
        name: name.to_owned(),
        subjects: vec![subjects.to_owned()],
        ..Default::default()
    })
    .await
    .expect("create the test stream")
}

/// Every message in a stream, in stream order: (subject, Nats-Msg-Id, payload).
pub async fn messages(stream: &mut stream::Stream) -> Vec<(String, String, Vec<u8>)> {
    let last = stream
        .info()
        .await
        .expect("stream info")
        .state
        .last_sequence;
    let mut out = Vec::new();
    for seq in 1..=last {
        if let Ok(m) = stream.get_raw_message(seq).await {
            let id = m
                .headers
                .get("Nats-Msg-Id")
                .map(|v| v.as_str().to_owned())
                .unwrap_or_default();
            out.push((m.subject.to_string(), id, m.payload.to_vec()));
        }
    }
    out
}

/// A NATS server of the test's own, with JetStream kept in `dir` so that it outlives a kill.
pub struct OwnNats {
    pub addr: SocketAddr,
    dir: PathBuf,
    child: Option<Child>,
    _keep: tempfile::TempDir,
}

impl OwnNats {
    pub async fn start() -> OwnNats {
        let keep = tempfile::tempdir().expect("temp dir");
        let addr = crate::sink::free_addr().await;
        let mut own = OwnNats {
            addr,
            dir: keep.path().to_owned(),
            child: None,
            _keep: keep,
        };
        own.restart().await;
        own
    }

    pub fn url(&self) -> String {
        format!("nats://{}", self.addr)
    }

    /// Starts the server (again), and waits until it takes connections.
    pub async fn restart(&mut self) {
        let child = Command::new("/usr/sbin/nats-server")
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.addr.port().to_string(),
                "-js",
                "-sd",
            ])
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run /usr/sbin/nats-server ({e}): apt-get install nats-server")
            });
        self.child = Some(child);
        crate::helpers::eventually("the test's NATS server to listen", || async {
            tokio::net::TcpStream::connect(self.addr).await.is_ok()
        })
        .await;
    }

    /// Kills the server at once.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.expect("kill nats-server");
        }
    }
}
