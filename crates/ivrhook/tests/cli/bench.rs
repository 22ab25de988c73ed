//! `ivrhook bench` runs end to end and writes the figures the acceptance checks read. (Its
//! numbers are measured by the bench and recorded in BENCHMARKS.md, never asserted here.)

use crate::proc::*;
use serde_json::Value;

async fn bench(path: &str, extra: &[&str]) -> Value {
    let (_guard, dir) = temp_dir();
    let mut args = vec![
        "bench",
        path,
        "--connections",
        "4",
        "--duration",
        "1s",
        "--json",
        "figures.json",
    ];
    args.extend_from_slice(extra);
    let table = run_ok(&dir, &args).await;
    assert!(table.contains("machine"), "{table}");
    serde_json::from_slice(&std::fs::read(dir.join("figures.json")).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_receive_reports_acks_against_the_ceiling() {
    let f = bench("receive", &[]).await;
    for key in [
        "acks_per_sec",
        "ceiling_per_sec",
        "p50_ms",
        "p99_ms",
        "p999_ms",
        "peak_rss_mb",
    ] {
        assert!(f[key].as_f64().is_some_and(|v| v > 0.0), "{key} in {f}");
    }
    assert_eq!(f["errors"], 0);
    assert_eq!(f["other_answers"], 0, "every answer was 000000");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_deliver_reports_deliveries_and_lag() {
    let f = bench("deliver", &[]).await;
    for key in [
        "deliveries_per_sec",
        "lag_p50_ms",
        "lag_p99_ms",
        "peak_rss_mb",
        "capacity_machine_cpu_us_per_delivery",
        "capacity_nodes_cpu_us_per_delivery",
    ] {
        assert!(f[key].as_f64().is_some_and(|v| v > 0.0), "{key} in {f}");
    }
}

/// Two nodes on a scratch PostgreSQL database: the bench creates it, spreads the load over
/// both nodes and drops it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_runs_two_nodes_on_postgres_and_drops_its_database() {
    let server = ivrhook_store::postgres::scratch::test_server_url();
    let f = bench("deliver", &["--nodes", "2", "--database", &server]).await;
    assert_eq!(f["nodes"], 2);
    let name = f["database"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    assert!(name.starts_with("ivrhook_bench_"), "{f}");
    assert!(
        f["deliveries_per_sec"].as_f64().is_some_and(|v| v > 0.0),
        "{f}"
    );
    let (client, conn) = tokio_postgres::connect(&server, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let left: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname = $1",
            &[&name],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "the bench's database was dropped");
    let (_guard, dir) = temp_dir();
    let (_, err) = run_fails(&dir, &["bench", "receive", "--nodes", "2"]).await;
    assert!(
        err.contains("--nodes: 1, or more with --database postgres://"),
        "{err}"
    );
}

/// `bench forward --kind redis` and `--kind mqtt` forward every report to the machine's Redis
/// and Mosquitto and say what a forward costs the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_forward_reports_cpu_per_forward_for_redis_and_mqtt() {
    for kind in ["redis", "mqtt"] {
        let f = bench("forward", &["--kind", kind]).await;
        assert_eq!(f["destinations"], serde_json::json!([kind]), "{f}");
        for key in [
            "receive_per_sec_with_destinations",
            "forwarded_per_sec_at_capacity",
            "server_cpu_us_per_report_with",
            "lag_p99_ms",
        ] {
            assert!(
                f[key].as_f64().is_some_and(|v| v > 0.0),
                "{kind}: {key} in {f}"
            );
        }
        assert!(f["server_cpu_us_per_forward"].is_number(), "{kind}: {f}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_recordings_reports_kept_and_copied_rates() {
    let f = bench(
        "recordings",
        &["--files", "20", "--size", "64KiB", "--rounds", "1"],
    )
    .await;
    assert_eq!(f["files"], 20.0);
    for key in [
        "copy.files_per_sec",
        "copy.mb_per_sec",
        "kept.files_per_sec",
        "kept.mb_per_sec",
        "kept.server_cpu_ms_per_file",
        "ratio_to_copy",
    ] {
        let (a, b) = key.split_once('.').unwrap_or((key, ""));
        let v = if b.is_empty() { &f[a] } else { &f[a][b] };
        assert!(v.as_f64().is_some_and(|v| v > 0.0), "{key} in {f}");
    }
}
