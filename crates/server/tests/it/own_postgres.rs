//! A PostgreSQL server of a test's own, in a temporary directory, that the test may stop,
//! start again and give a certificate: what the machine's shared server cannot be for one
//! test while the others use it. Runs the machine's PostgreSQL binaries as user `postgres`.

use std::{net::TcpListener, path::PathBuf};
use tempfile::TempDir;
use tokio::process::Command;

pub struct OwnPostgres {
    dir: TempDir,
    bin: PathBuf,
    port: u16,
}

/// A server certificate and key, PEM, for `ssl = on`.
pub struct ServerTls {
    pub cert: String,
    pub key: String,
}

async fn run(what: &str, cmd: &mut Command) {
    let out = cmd.output().await.unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The machine's PostgreSQL binaries (Debian's `/usr/lib/postgresql/<version>/bin`).
fn binaries() -> PathBuf {
    let found = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .find(|bin| bin.join("initdb").exists());
    found.expect("these tests run PostgreSQL's own binaries: install Debian's postgresql")
}

impl OwnPostgres {
    /// A fresh cluster on a free loopback port, trusting every local connection, started.
    pub async fn start(tls: Option<ServerTls>) -> OwnPostgres {
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let pg = OwnPostgres {
            dir,
            bin: binaries(),
            port,
        };
        run(
            "chown",
            Command::new("chown").arg("postgres").arg(pg.dir.path()),
        )
        .await;
        let initdb = pg.bin.join("initdb");
        let data = pg.data();
        run(
            "initdb",
            pg.as_postgres(&initdb)
                .args(["-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
                .args(["--locale=C", "-D"])
                .arg(&data),
        )
        .await;
        let mut conf = format!(
            "port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
             fsync = off\n",
            pg.dir.path().display()
        );
        if let Some(tls) = tls {
            std::fs::write(data.join("server.crt"), tls.cert).unwrap();
            std::fs::write(data.join("server.key"), tls.key).unwrap();
            run(
                "chown",
                Command::new("chown").arg("-R").arg("postgres").arg(&data),
            )
            .await;
            run(
                "chmod",
                Command::new("chmod")
                    .arg("600")
                    .arg(data.join("server.key")),
            )
            .await;
            conf.push_str("ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n");
        }
        let auto = data.join("postgresql.auto.conf");
        let mut text = std::fs::read_to_string(&auto).unwrap();
        text.push_str(&conf);
        std::fs::write(&auto, text).unwrap();
        pg.start_again().await;
        pg
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn as_postgres(&self, program: &std::path::Path) -> Command {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(program);
        cmd
    }

    fn pg_ctl(&self, args: &[&str]) -> Command {
        let mut cmd = self.as_postgres(&self.bin.join("pg_ctl"));
        cmd.arg("-D").arg(self.data()).args(args);
        cmd
    }

    /// `postgres://postgres@127.0.0.1:<port>/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server at once, as a crash would: clients are cut off mid-request.
    pub async fn stop(&self) {
        run(
            "pg_ctl stop",
            &mut self.pg_ctl(&["-m", "immediate", "-w", "stop"]),
        )
        .await;
    }

    /// Starts the stopped server and waits until it takes connections.
    pub async fn start_again(&self) {
        let log = self.dir.path().join("server.log");
        let start = ["-w", "-t", "60", "-l", log.to_str().unwrap(), "start"];
        run("pg_ctl start", &mut self.pg_ctl(&start)).await;
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = std::process::Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "stop"])
            .output();
    }
}
