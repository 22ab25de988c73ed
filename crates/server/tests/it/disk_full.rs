//! The SQLite file's disk fills up: the receiver answers `108104` for what it cannot keep,
//! keeps everything it acknowledged, leaves an intact file, and takes reports again once
//! space returns, without a restart. The disk is a 4 MiB tmpfs the test mounts (root).

use crate::helpers::*;
use std::{path::Path, process::Command};
use tempfile::TempDir;

/// A tmpfs of `size` mounted on a fresh directory, unmounted on drop.
struct SmallDisk {
    dir: TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> SmallDisk {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .expect("running mount");
        assert!(
            out.status.success(),
            "this test mounts a tmpfs and needs root (CAP_SYS_ADMIN): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        SmallDisk { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills what is free but `keep` bytes with a file of its own.
    fn fill_leaving(&self, keep: u64) {
        let free = free_bytes(self.path());
        let filler = std::fs::File::create(self.path().join("filler")).unwrap();
        filler.set_len(0).unwrap();
        let mut chunk = vec![0x5a_u8; 64 * 1024];
        let mut left = free.saturating_sub(keep);
        let mut w = std::io::BufWriter::new(filler);
        while left > 0 {
            let n = left.min(chunk.len() as u64) as usize;
            std::io::Write::write_all(&mut w, &chunk[..n]).unwrap();
            left -= n as u64;
        }
        std::io::Write::flush(&mut w).unwrap();
        chunk.clear();
    }

    fn free_filler(&self) {
        std::fs::remove_file(self.path().join("filler")).unwrap();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

fn free_bytes(path: &Path) -> u64 {
    let out = Command::new("df")
        .args(["--output=avail", "-B1"])
        .arg(path)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines().nth(1).unwrap().trim().parse().unwrap()
}

/// A report of about 8 KiB for `call_id`.
fn big_report(call_id: &str) -> String {
    let mut r = report(call_id);
    r["data"] = "x".repeat(8 * 1024).into();
    r.to_string()
}

#[tokio::test]
async fn a_full_disk_is_answered_108104_loses_nothing_and_recovers_when_space_returns() {
    let disk = SmallDisk::mount("4m");
    let db = disk.path().join("ivrhook.db");
    let app = spawn_with_database(&format!("sqlite://{}", db.display()), "").await;
    let mut acknowledged = Vec::new();
    for n in 0..10 {
        let id = format!("df-a{n}");
        assert_eq!(app.post_callback(big_report(&id)).await.code, "000000");
        acknowledged.push(id);
    }
    disk.fill_leaving(64 * 1024);
    let mut refused = 0;
    for n in 0..100 {
        let id = format!("df-b{n}");
        let answer = app.post_callback(big_report(&id)).await;
        match answer.code.as_str() {
            "000000" => acknowledged.push(id),
            "108104" => {
                assert!(answer.msg.contains("not stored"), "{}", answer.msg);
                refused += 1;
            }
            other => panic!("a full disk answered {other}: {}", answer.msg),
        }
    }
    assert!(refused > 50, "the full disk refused only {refused} of 100");

    disk.free_filler();
    eventually("a report to be taken again once space returns", || async {
        let answer = app.post_callback(big_report("df-back")).await;
        answer.code == "000000"
    })
    .await;
    acknowledged.push("df-back".into());
    for id in &acknowledged {
        assert!(
            !app.timeline(id).await.is_empty(),
            "{id} was acknowledged, then lost"
        );
    }
    app.stop().await;

    let conn = rusqlite::Connection::open(&db).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let kept: i64 = conn
        .query_row("SELECT count(DISTINCT call_id) FROM reports", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(
        kept as usize,
        acknowledged.len(),
        "exactly what was acknowledged is kept"
    );
}
