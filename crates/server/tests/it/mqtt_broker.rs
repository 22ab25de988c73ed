//! A Mosquitto of a test's own, that it can stop and start again, keeping its sessions on
//! disk across a stop.

use std::{net::SocketAddr, path::PathBuf, process::Stdio, time::Duration};
use tokio::process::{Child, Command};

/// A Mosquitto of the test's own, keeping its sessions on disk across a stop.
pub struct OwnBroker {
    pub addr: SocketAddr,
    dir: PathBuf,
    child: Option<Child>,
    _keep: tempfile::TempDir,
}

impl OwnBroker {
    pub async fn start() -> OwnBroker {
        let keep = tempfile::tempdir().expect("temp dir");
        let addr = crate::sink::free_addr().await;
        let dir = keep.path().to_owned();
        let config = format!(
            "listener {} 127.0.0.1\nallow_anonymous true\npersistence true\n\
             persistence_location {}/\nuser {}\n",
            addr.port(),
            dir.display(),
            // Run as root, Mosquitto becomes the `mosquitto` user, who cannot write here.
            std::env::var("USER").unwrap_or_else(|_| "root".into())
        );
        std::fs::write(dir.join("mosquitto.conf"), config).unwrap();
        let mut own = OwnBroker {
            addr,
            dir,
            child: None,
            _keep: keep,
        };
        own.restart().await;
        own
    }

    pub fn url(&self) -> String {
        format!("mqtt://{}", self.addr)
    }

    /// Starts the broker (again), and waits until it takes connections.
    pub async fn restart(&mut self) {
        let child = Command::new("mosquitto")
            .arg("-c")
            .arg(self.dir.join("mosquitto.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("mosquitto starts ({e}); apt-get install mosquitto"));
        self.child = Some(child);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(self.addr).await.is_err() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "mosquitto did not listen"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the broker as an operator does (SIGTERM: it saves its sessions), and waits.
    pub async fn stop(&mut self) {
        let mut child = self.child.take().expect("running");
        let pid = child.id().expect("a pid") as i32;
        let _ = std::process::Command::new("kill")
            .arg(pid.to_string())
            .status();
        child.wait().await.unwrap();
    }
}
