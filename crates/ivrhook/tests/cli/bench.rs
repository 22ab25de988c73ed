//! `ivrhook bench` runs end to end and writes the figures the acceptance checks read. (Its
//! numbers are measured by the bench and recorded in BENCHMARKS.md, never asserted here.)

use crate::proc::*;
use serde_json::Value;

async fn bench(path: &str) -> Value {
    let (_guard, dir) = temp_dir();
    let args = [
        "bench",
        path,
        "--connections",
        "4",
        "--duration",
        "1s",
        "--json",
        "figures.json",
    ];
    let table = run_ok(&dir, &args).await;
    assert!(table.contains("machine"), "{table}");
    serde_json::from_slice(&std::fs::read(dir.join("figures.json")).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_receive_reports_acks_against_the_ceiling() {
    let f = bench("receive").await;
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
    let f = bench("deliver").await;
    for key in [
        "deliveries_per_sec",
        "lag_p50_ms",
        "lag_p99_ms",
        "peak_rss_mb",
    ] {
        assert!(f[key].as_f64().is_some_and(|v| v > 0.0), "{key} in {f}");
    }
}
