//! What a package needs: shell completions and a man page generated from the CLI, and the
//! repository's systemd unit, checked by systemd itself.

use crate::proc::*;

#[tokio::test]
async fn completions_and_the_man_page_come_from_the_commands() {
    let (_guard, dir) = temp_dir();
    let bash = run_ok(&dir, &["completions", "bash"]).await;
    assert!(
        bash.contains("_ivrhook()") && bash.contains("backup"),
        "{bash}"
    );
    let zsh = run_ok(&dir, &["completions", "zsh"]).await;
    assert!(zsh.starts_with("#compdef ivrhook"), "{zsh}");
    let man = run_ok(&dir, &["manpage"]).await;
    assert!(man.contains(".TH ivrhook 1"), "{man}");
    assert!(man.contains("serve") && man.contains("prune"), "{man}");
}

#[tokio::test]
async fn the_systemd_unit_passes_systemd_analyze() {
    let (_guard, dir) = temp_dir();
    let unit = include_str!("../../../../packaging/ivrhook.service");
    assert!(
        unit.contains("ExecStart=/usr/local/bin/ivrhook serve --config /etc/ivrhook/ivrhook.toml")
    );
    // Verified against the binary under test, where the unit expects the installed one.
    let here = unit.replace("/usr/local/bin/ivrhook", env!("CARGO_BIN_EXE_ivrhook"));
    std::fs::write(dir.join("ivrhook.service"), here).unwrap();
    // The man page it names is installed with the package, not on this machine.
    let out = tokio::process::Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(dir.join("ivrhook.service"))
        .output()
        .await
        .expect("systemd-analyze runs (Debian package systemd)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.trim().is_empty(), "{stderr}");
}
