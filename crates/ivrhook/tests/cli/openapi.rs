//! The OpenAPI document describes every `/v1` route, `/docs` shows it, and schemathesis
//! (installed by `scripts/setup`) finds no server error and no answer that breaks the document.

use crate::proc::*;
use serde_json::Value;
use std::collections::BTreeSet;

const TOKEN: &str = "schemathesis-token-0001";

/// Every path the API's router serves, read from its source.
fn routed() -> BTreeSet<String> {
    let source = include_str!("../../../server/src/api/mod.rs");
    let quoted = |rest: &'static str| rest.trim_start().strip_prefix('"')?.split('"').next();
    let paths = source.split(".route(").skip(1).filter_map(quoted);
    paths.map(str::to_owned).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_describes_every_route_and_schemathesis_finds_nothing() {
    let (_guard, dir) = temp_dir();
    std::fs::write(dir.join("st.toml"), format!("admin_token = \"{TOKEN}\"\n")).unwrap();
    let mut server = serve(&dir, &["--config", "st.toml"]).await;
    let url = format!("{}/openapi.json", server.base);
    let doc: Value = crate::http()
        .get(&url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let documented: BTreeSet<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    assert_eq!(documented, routed(), "the document and the router disagree");
    let docs = crate::http()
        .get(format!("{}/docs", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        documented.iter().all(|p| docs.contains(p.as_str())),
        "{docs}"
    );

    let checks = "not_a_server_error,status_code_conformance,content_type_conformance,\
                  response_headers_conformance,response_schema_conformance";
    let out = tokio::process::Command::new("schemathesis")
        .args(["run", &url, "--checks", checks, "--max-examples", "20"])
        .args([
            "--request-timeout",
            "5",
            "-H",
            &format!("Authorization: Bearer {TOKEN}"),
        ])
        .current_dir(&dir)
        .output()
        .await
        .expect("schemathesis runs (pip install 'schemathesis>=4,<5'; scripts/setup does)");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    server.child.start_kill().unwrap();
}
