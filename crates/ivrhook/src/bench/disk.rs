//! A probe of the disk under the server's database: a 4 KiB append and an fdatasync every
//! 10 ms beside a phase, so that a run's latency tail can be set against the disk's own in the
//! same run (a shared virtual disk stalls now and then, and every acknowledged report waits
//! for an fsync).

use crate::stats::Latencies;
use std::{
    fs::File,
    io::Write,
    path::Path,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

#[derive(Debug)]
pub struct Probe {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Latencies>,
}

impl Probe {
    pub fn start(dir: &Path) -> Result<Probe, String> {
        let path = dir.join("fsync-probe");
        let file = File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("bench-fsync-probe".into())
            .spawn(move || probe(file, &stopped))
            .map_err(|e| format!("starting the fsync probe: {e}"))?;
        Ok(Probe { stop, thread })
    }

    /// Each fdatasync's duration.
    pub fn finish(self) -> Latencies {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or_default()
    }
}

fn probe(mut file: File, stop: &AtomicBool) -> Latencies {
    let mut synced = Latencies::default();
    let page = [0u8; 4096];
    while !stop.load(Ordering::Relaxed) {
        if file.write_all(&page).is_err() {
            break;
        }
        let started = Instant::now();
        if file.sync_data().is_err() {
            break;
        }
        synced.push(started.elapsed());
        std::thread::sleep(Duration::from_millis(10));
    }
    synced
}
