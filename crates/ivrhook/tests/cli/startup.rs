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
    let dashboard = format!("dashboard: {}/", server.base);
    assert!(server.line.ends_with(&dashboard), "{}", server.line);
    assert!(db.exists());
    server.child.start_kill().unwrap();
}

#[tokio::test]
async fn a_bad_config_file_stops_start_up_naming_the_key() {
    let (_guard, dir) = temp_dir();
    for (text, expected) in [
        ("lisen = \"127.0.0.1:1\"\n", "lisen: is not a key here"),
        (
            "[inbound]\nqueue_capacity = \"many\"\n",
            "inbound.queue_capacity: invalid type: found string \"many\", expected usize (in ",
        ),
        (
            "[inbound]\nutc_offset = \"8\"\n",
            "inbound.utc_offset: \"8\" is not a UTC offset",
        ),
        (
            "database = \"mysql://db\"\n",
            "database: database URL \"mysql://db\" must start with",
        ),
        (
            "[[destinations]]\nname = \"crm\"\nkind = \"webhook\"\nurl = \"not a url\"\n",
            "destinations[0].url: is not a URL: relative URL without a base (in ",
        ),
        (
            "[inbound]\nutc_offset = \"8\"\n",
            "is not a UTC offset like +08:00, -05:30 or Z (in bad.toml)",
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

/// The newest migration of `backend`: one file each in the store's `migrations` directory.
fn newest(backend: &str) -> usize {
    let dir = format!(
        "{}/../store/src/{backend}/migrations",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .filter(|f| {
            f.as_ref()
                .is_ok_and(|f| f.path().extension().is_some_and(|x| x == "sql"))
        })
        .count()
}

/// What `ivrhook migrate` prints for a new database of `newest` versions.
fn applied(newest: usize) -> String {
    let all: Vec<String> = (1..=newest).map(|v| v.to_string()).collect();
    format!("applied migration(s) [{}]", all.join(", "))
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
    let pg = newest("postgres");
    let needs = |n: usize| format!("older than this ivrhook needs ({n}); run `ivrhook migrate`");
    assert!(stderr.contains(&needs(pg)), "{stderr}");
    let out = run_ok(&dir, &["migrate", "--database", &db.url]).await;
    assert!(out.contains(&applied(pg)), "{out}");
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
    let sqlite = newest("sqlite");
    assert!(stderr.contains(&needs(sqlite)), "{stderr}");
    let out = run_ok(&dir, &["migrate", "--database", "sqlite://m.db"]).await;
    assert!(out.contains(&applied(sqlite)), "{out}");
    let mut node = serve(&dir, &["--database", "sqlite://m.db", "--no-migrate"]).await;
    assert!(node.line.contains("m.db"), "{}", node.line);
    node.child.start_kill().unwrap();
    let _ = node.child.wait().await;
    db.drop_database().await.unwrap();
}

/// Every key can come from an `IVRHOOK_*` variable, over the file and under the flags.
#[tokio::test]
async fn the_environment_sets_any_key_between_the_file_and_the_flags() {
    let (_guard, dir) = temp_dir();
    std::fs::write(dir.join("f.toml"), "[inbound]\npath = \"/from-file\"\n").unwrap();
    let env = [
        ("IVRHOOK_INBOUND__PATH", "/from-env"),
        ("IVRHOOK_INBOUND__MAX_BODY_BYTES", "1KiB"),
        ("IVRHOOK_ADMIN_TOKEN", "0123456789012345"),
        ("IVRHOOK_SERVER", "http://not-a-key"),
    ];
    let mut server = serve_with_env(&dir, &["--config", "f.toml"], &env).await;
    let client = crate::http();
    let post = |path: &str, body: String| {
        client
            .post(format!("{}{path}", server.base))
            .body(body)
            .send()
    };
    let report = std::fs::read_to_string(fixture("send-example.json")).unwrap();
    let answer: serde_json::Value = post("/from-env", report)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["code"], "000000", "{answer}");
    let big = format!("{{\"pad\": \"{}\"}}", "x".repeat(2000));
    let answer: serde_json::Value = post("/from-env", big).await.unwrap().json().await.unwrap();
    assert_eq!(answer["code"], "108100", "{answer}");
    assert!(answer["msg"].as_str().unwrap().contains("1024"), "{answer}");
    let status = |token: Option<&str>| {
        let mut req = client.get(format!("{}/v1/events", server.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status(None).await, 401);
    assert_eq!(status(Some("0123456789012345")).await, 200);
    server.child.start_kill().unwrap();

    let (_, err) = run_fails_with_env(
        &dir,
        &["serve", "--config", "f.toml"],
        &[("IVRHOOK_INBOUND__QUEUE_CAPACITY", "lots")],
    )
    .await;
    assert!(
        err.contains("inbound.queue_capacity: invalid type: found string \"lots\", expected usize (from IVRHOOK_INBOUND__QUEUE_CAPACITY)"),
        "{err}"
    );
    let (_, err) = run_fails_with_env(&dir, &["serve"], &[("IVRHOOK_LISTN", "x")]).await;
    assert!(err.contains("listn: is not a key here"), "{err}");
}

#[tokio::test]
async fn config_check_validates_a_file_without_starting() {
    let (_guard, dir) = temp_dir();
    let good = "listen = \"127.0.0.1:0\"\n[[destinations]]\nname = \"crm\"\nkind = \"webhook\"\nurl = \"http://crm:9000/ivr\"\n";
    std::fs::write(dir.join("good.toml"), good).unwrap();
    let out = run_ok(&dir, &["config", "check", "good.toml"]).await;
    assert!(out.starts_with("good.toml: valid."), "{out}");
    assert!(out.contains("1 destination(s): crm"), "{out}");
    assert!(!dir.join("ivrhook.db").exists(), "nothing was started");

    std::fs::write(
        dir.join("bad.toml"),
        "[inbound]\nmax_body_bytes = \"lots\"\n",
    )
    .unwrap();
    let (_, err) = run_fails(&dir, &["config", "check", "bad.toml"]).await;
    assert!(
        err.contains("inbound.max_body_bytes: \"lots\" is not a size"),
        "{err}"
    );
    let (_, err) = run_fails(&dir, &["config", "check", "missing.toml"]).await;
    assert!(
        err.contains("could not read config file missing.toml"),
        "{err}"
    );
    let public = "listen = \"0.0.0.0:8080\"\n";
    std::fs::write(dir.join("public.toml"), public).unwrap();
    let (_, err) = run_fails(&dir, &["config", "check", "public.toml"]).await;
    assert!(err.contains("apps: no [[apps]] are configured"), "{err}");
    // Bare `config` still prints the documented defaults.
    let printed = run_ok(&dir, &["config"]).await;
    assert!(printed.starts_with("# ivrhook configuration."), "{printed}");
}

#[tokio::test]
async fn a_token_from_token_new_opens_the_api_through_its_printed_entry() {
    let (_guard, dir) = temp_dir();
    let printed = run_ok(&dir, &["token", "new", "--name", "ci", "--scopes", "read"]).await;
    let token = printed
        .lines()
        .next()
        .unwrap()
        .strip_prefix("token: ")
        .unwrap()
        .to_owned();
    let entry = &printed[printed.find("[[api_tokens]]").unwrap()..];
    assert!(
        !entry.contains(&token),
        "the entry holds the hash, not the token"
    );
    std::fs::write(dir.join("ivrhook.toml"), entry).unwrap();
    let mut server = serve(&dir, &["--config", "ivrhook.toml"]).await;
    let client = crate::http();
    let url = format!("{}/v1/deliveries", server.base);
    let without = client.get(&url).send().await.unwrap();
    assert_eq!(without.status(), 401);
    let with = client.get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(with.status(), 200);
    server.child.start_kill().unwrap();
}

/// A database file in a directory that does not exist is refused with the directory named,
/// not as a lock that failed.
#[tokio::test]
async fn a_database_in_a_missing_directory_names_the_directory() {
    let (_guard, dir) = temp_dir();
    let missing = dir.join("nowhere");
    let url = format!("sqlite://{}/ivrhook.db", missing.display());
    let (_, err) = run_fails(&dir, &["serve", "--database", &url]).await;
    let expected = format!("the directory {} for the database", missing.display());
    assert!(err.contains(&expected), "{err}");
    assert!(!err.contains("cannot lock"), "{err}");
    assert!(!missing.exists(), "nothing is created");
}

/// A webhook at a private address without `allow_private` is valid, but its every delivery
/// would go dead: `config check` and the start-up log say so, naming the key.
#[tokio::test]
async fn a_destination_its_reach_refuses_is_warned_of_at_check_and_start() {
    let (_guard, dir) = temp_dir();
    let text = "[[destinations]]\nname = \"crm\"\nkind = \"webhook\"\nurl = \"http://10.1.2.3:9000/h\"\n\
                [[destinations]]\nname = \"open\"\nkind = \"webhook\"\nurl = \"http://10.1.2.4:9000/h\"\n\
                allow_private = true\n";
    std::fs::write(dir.join("private.toml"), text).unwrap();
    let out = run_ok(&dir, &["config", "check", "private.toml"]).await;
    let warnings: Vec<&str> = out.lines().filter(|l| l.starts_with("warning: ")).collect();
    assert_eq!(warnings.len(), 1, "{out}");
    assert!(
        warnings[0].starts_with("warning: destinations[0].url: 10.1.2.3 is a private address"),
        "{out}"
    );
    assert!(warnings[0].contains("allow_private = true"), "{out}");

    let env = [("RUST_LOG", "warn")];
    let server = serve_with_env(&dir, &["--config", "private.toml"], &env).await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while !stderr(&dir).contains("destinations[0].url: 10.1.2.3 is a private address") {
        assert!(tokio::time::Instant::now() < deadline, "{}", stderr(&dir));
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(!stderr(&dir).contains("10.1.2.4"), "{}", stderr(&dir));
    drop(server);
}
