//! The server under test: this same binary started as a child process, so its CPU time and
//! peak memory are its own (read from /proc), apart from the load generator's.

use std::{net::SocketAddr, path::Path, process::Stdio};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

#[derive(Debug)]
pub struct ServerProc {
    child: Child,
    pub pid: u32,
    pub addr: SocketAddr,
}

impl ServerProc {
    /// Starts `ivrhook ARGS` in `dir` and waits for its start-up line.
    pub async fn start(dir: &Path, args: &[&str]) -> Result<ServerProc, String> {
        let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
        let mut child = Command::new(exe)
            .args(args)
            .current_dir(dir)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start the server: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let line = BufReader::new(stdout)
            .lines()
            .next_line()
            .await
            .map_err(|e| e.to_string())?
            .ok_or("the server exited before it listened")?;
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| format!("no address in {line:?}"))?;
        let pid = child.id().ok_or("the server exited")?;
        Ok(ServerProc { child, pid, addr })
    }

    /// User plus system CPU seconds the process has used.
    pub fn cpu_seconds(&self) -> f64 {
        process_cpu_seconds(&self.pid.to_string())
    }

    /// Peak resident memory (VmHWM), in MB.
    pub fn peak_rss_mb(&self) -> f64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    }

    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

/// One or more servers under test on one database (nodes of a cluster): the load is spread
/// over their addresses; CPU is their sum, peak memory the largest node's.
#[derive(Debug)]
pub struct Cluster {
    nodes: Vec<ServerProc>,
}

impl Cluster {
    /// Starts `n` servers with the same arguments, together (so they also race for the
    /// migrations, as nodes deployed at once do).
    pub async fn start(dir: &Path, args: &[&str], n: usize) -> Result<Cluster, String> {
        let started =
            futures_util::future::join_all((0..n.max(1)).map(|_| ServerProc::start(dir, args)));
        let nodes = started.await.into_iter().collect::<Result<Vec<_>, _>>()?;
        Ok(Cluster { nodes })
    }

    /// The process id of node `i`.
    pub fn pid(&self, i: usize) -> u32 {
        self.nodes[i].pid
    }

    pub fn addrs(&self) -> Vec<SocketAddr> {
        self.nodes.iter().map(|n| n.addr).collect()
    }

    pub fn cpu_seconds(&self) -> f64 {
        self.nodes.iter().map(ServerProc::cpu_seconds).sum()
    }

    pub fn peak_rss_mb(&self) -> f64 {
        self.nodes
            .iter()
            .map(ServerProc::peak_rss_mb)
            .fold(0.0, f64::max)
    }

    pub async fn stop(self) {
        for node in self.nodes {
            node.stop().await;
        }
    }
}

/// Clock ticks a second, asked once.
fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok()?.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// CPU seconds the whole machine has been busy (all cores, every process: `/proc/stat`).
/// With PostgreSQL, the nodes and the load on one machine, busy time per delivery says what
/// a delivery costs in all, next to the rate (on a machine whose speed varies it moves too:
/// BENCHMARKS.md).
pub fn machine_busy_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let f: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal: busy is user, nice, system, irq and
    // softirq (steal is other machines' time on this host).
    let busy: u64 = [0, 1, 2, 5, 6].iter().filter_map(|&i| f.get(i)).sum();
    busy as f64 / clock_ticks()
}

/// `cores` and memory of this machine, for the record.
pub fn machine() -> (usize, f64) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0 / 1024.0);
    (cores, mem)
}

/// User plus system CPU seconds of a process (`self`, or a pid), from `/proc`.
pub fn process_cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may contain spaces) start at ") ".
    let rest = stat.rsplit_once(") ").map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat; `rest` starts at field 3 (state).
    let field = |i: usize| f.get(i).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
    let ticks = field(11) + field(12);
    ticks as f64 / clock_ticks()
}

/// CPU seconds used so far by every process whose name is `name` (e.g. `nats-server`).
pub fn named_cpu_seconds(name: &str) -> f64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|pid| pid.bytes().all(|b| b.is_ascii_digit()))
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == name)
        })
        .map(|pid| process_cpu_seconds(&pid))
        .sum()
}
