//! What an operator sees when starting ivrhook, and how bad configuration is refused.

use crate::proc::*;

#[tokio::test]
async fn serve_with_no_config_keeps_data_in_the_working_directory() {
    let (_guard, dir) = temp_dir();
    let mut server = serve(&dir, &[]).await;
    let db = dir.join("ivrhook.db");
    assert!(
        server
            .line
            .starts_with("ivrhook listening on http://127.0.0.1:"),
        "{}",
        server.line
    );
    assert!(
        server.line.contains(&format!("data in {}", db.display())),
        "{}",
        server.line
    );
    assert!(
        server.line.contains("accepting any appId (loopback only)"),
        "{}",
        server.line
    );
    assert!(db.exists());
    server.child.start_kill().unwrap();
}

#[tokio::test]
async fn a_bad_config_file_stops_start_up_naming_the_key() {
    let (_guard, dir) = temp_dir();
    for (text, expected) in [
        ("lisen = \"127.0.0.1:1\"\n", "unknown field `lisen`"),
        (
            "[inbound]\nutc_offset = \"8\"\n",
            "inbound.utc_offset: \"8\" is not a UTC offset",
        ),
        (
            "database = \"mysql://db\"\n",
            "database: database URL \"mysql://db\" must start with",
        ),
    ] {
        std::fs::write(dir.join("bad.toml"), text).unwrap();
        let (_, err) = run_fails(&dir, &["serve", "--config", "bad.toml"]).await;
        assert!(
            err.contains(expected),
            "{err:?} should contain {expected:?}"
        );
    }
}

#[tokio::test]
async fn a_public_address_without_apps_is_refused_with_a_reason() {
    let (_guard, dir) = temp_dir();
    let (_, err) = run_fails(&dir, &["serve", "--listen", "0.0.0.0:0"]).await;
    assert!(
        err.contains(
            "apps: no [[apps]] are configured and listen = \"0.0.0.0:0\" is not a loopback address"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn config_prints_a_default_file_that_serve_accepts() {
    let (_guard, dir) = temp_dir();
    let out = ivrhook(&dir).arg("config").output().await.unwrap();
    assert!(out.status.success());
    std::fs::write(dir.join("ivrhook.toml"), &out.stdout).unwrap();
    let mut server = serve(&dir, &["--config", "ivrhook.toml"]).await;
    assert!(
        server.line.contains("reports: POST /callback"),
        "{}",
        server.line
    );
    server.child.start_kill().unwrap();
}

/// `ivrhook migrate` as a release step, and `serve --no-migrate` refusing an older schema, on
/// PostgreSQL and on SQLite.
#[tokio::test]
async fn migrate_applies_once_and_no_migrate_refuses_an_unmigrated_database_on_both_backends() {
    use ivrhook_store::postgres::scratch::ScratchDatabase;
    let (_guard, dir) = temp_dir();
    let db = ScratchDatabase::for_tests("ivrhook_cli_migrate")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (_, stderr) = run_fails(&dir, &["serve", "--database", &db.url, "--no-migrate"]).await;
    assert!(
        stderr.contains("older than this ivrhook needs (7); run `ivrhook migrate`"),
        "{stderr}"
    );
    let out = run_ok(&dir, &["migrate", "--database", &db.url]).await;
    assert!(
        out.contains("applied migration(s) [1, 2, 3, 4, 5, 6, 7]"),
        "{out}"
    );
    let again = run_ok(&dir, &["migrate", "--database", &db.url]).await;
    assert!(again.contains("up to date"), "{again}");
    let mut node = serve(&dir, &["--database", &db.url, "--no-migrate"]).await;
    assert!(node.line.contains("data in postgres://"), "{}", node.line);
    node.child.start_kill().unwrap();
    let _ = node.child.wait().await;
    // SQLite the same: refused before `migrate`, served after it.
    let (_, stderr) = run_fails(
        &dir,
        &["serve", "--database", "sqlite://m.db", "--no-migrate"],
    )
    .await;
    assert!(
        stderr.contains("older than this ivrhook needs (5); run `ivrhook migrate`"),
        "{stderr}"
    );
    let out = run_ok(&dir, &["migrate", "--database", "sqlite://m.db"]).await;
    assert!(
        out.contains("applied migration(s) [1, 2, 3, 4, 5]"),
        "{out}"
    );
    let mut node = serve(&dir, &["--database", "sqlite://m.db", "--no-migrate"]).await;
    assert!(node.line.contains("m.db"), "{}", node.line);
    node.child.start_kill().unwrap();
    let _ = node.child.wait().await;
    db.drop_database().await.unwrap();
}
