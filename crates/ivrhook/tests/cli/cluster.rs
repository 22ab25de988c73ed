//! Three `ivrhook serve` processes on one PostgreSQL database: 10,000 events submitted through
//! all three, one node SIGKILLed midway. Every event arrives, each call's events arrive in
//! order across nodes, and duplicates are bounded by what the killed node had sent and not
//! recorded: its requests running plus answers waiting for their group's commit, at most
//! twice its `max_in_flight`.

use crate::proc::*;
use ivrhook_store::postgres::scratch::ScratchDatabase;
use serde_json::Value;
use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use ivrhook_testkit::{Reply, Sink, APP};
const CALLS: usize = 2_500;
const PER_CALL: usize = 4;
const MAX_IN_FLIGHT: u32 = 16;

/// Every arrival at the business's receiver as (call, seq), in arrival order.
fn arrivals(receiver: &Sink) -> Vec<(String, u64)> {
    let seq = |v: &Value| {
        (v["isNonProfit"][0]["data"].as_str())
            .and_then(|d| d.strip_prefix("seq-")?.parse().ok())
            .unwrap_or(u64::MAX)
    };
    (receiver.hits().iter())
        .map(|hit| {
            let v: Value = serde_json::from_slice(&hit.raw).unwrap_or_default();
            (v["callId"].as_str().unwrap_or_default().to_owned(), seq(&v))
        })
        .collect()
}

fn event(call: usize, seq: usize) -> String {
    let mut body = report(&format!("mn-{call}"));
    body["isNonProfit"][0]["data"] = format!("seq-{seq}").into();
    body.to_string()
}

/// Submits one event, moving to the next node while one is unreachable (the killed one); the
/// idempotency key makes a retried submission the same event.
async fn submit(
    client: &reqwest::Client,
    nodes: &[String],
    call: usize,
    seq: usize,
    dir: &std::path::Path,
) {
    let key = format!("mn-{call}-{seq}");
    for attempt in 0.. {
        let base = &nodes[(call * PER_CALL + seq + attempt) % nodes.len()];
        let sent = client
            .post(format!("{base}/v1/apps/{APP}/events"))
            .header("Idempotency-Key", &key)
            .body(event(call, seq))
            .send()
            .await;
        match sent {
            // 202: new; 200: the key was used before (the killed node took it, its answer lost).
            Ok(resp) if resp.status() == 202 || resp.status() == 200 => return,
            Ok(resp) => panic!(
                "{key}: HTTP {} {}\nthe nodes' log:\n{}",
                resp.status(),
                resp.text().await.unwrap(),
                stderr(dir)
            ),
            Err(_) if attempt < 10 => continue,
            Err(e) => panic!("{key}: no node took it: {e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_one_killed_every_event_delivered_in_order() {
    let db = ScratchDatabase::for_tests("ivrhook_cluster")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // A little work per request, so deliveries are in flight when the node dies.
    let receiver = Sink::business().await;
    receiver.always(Reply::code("000000").after(Duration::from_millis(2)));
    let url = receiver.url();

    let (_guard, dir) = temp_dir();
    // Small pools: the suite's other PostgreSQL tests run beside these three nodes, within the
    // server's max_connections.
    let config = format!(
        "database_pool_size = 6\n[[apps]]\nid = \"{APP}\"\ncallback_url = \"{url}\"\nmax_in_flight = {MAX_IN_FLIGHT}\n\
         timeout = \"2s\"\n"
    );
    std::fs::write(dir.join("ivrhook.toml"), config).unwrap();
    let args = ["--config", "ivrhook.toml", "--database", db.url.as_str()];
    // Started together: the migrations' advisory lock lets exactly one apply them.
    let (a, b, c) = tokio::join!(serve(&dir, &args), serve(&dir, &args), serve(&dir, &args));
    let mut nodes = [a, b, c];
    let bases: Arc<Vec<String>> = Arc::new(nodes.iter().map(|n| n.base.clone()).collect());

    let next_call = Arc::new(AtomicUsize::new(0));
    let submitters: Vec<_> = (0..32)
        .map(|_| {
            let (bases, next_call) = (Arc::clone(&bases), Arc::clone(&next_call));
            let dir = dir.clone();
            tokio::spawn(async move {
                let client = crate::http();
                loop {
                    let call = next_call.fetch_add(1, Ordering::Relaxed);
                    if call >= CALLS {
                        return;
                    }
                    // A call's events one after another: their order is the order to keep.
                    for seq in 0..PER_CALL {
                        submit(&client, &bases, call, seq, &dir).await;
                    }
                }
            })
        })
        .collect();

    let arrived = || receiver.count();
    wait_until("3,000 deliveries before the kill", || arrived() >= 3_000).await;
    nodes[1].child.start_kill().unwrap();
    nodes[1].child.wait().await.unwrap();
    let at_kill = arrived();
    for s in submitters {
        s.await.unwrap();
    }
    let total = CALLS * PER_CALL;
    assert!(
        at_kill < total,
        "the kill came before everything was delivered"
    );

    // The killed node's leases expire (2 s timeout + 30 s) and the others deliver the rest.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
    let firsts = loop {
        // Each event's first arrival, read once there can be enough of them.
        let mut firsts: HashMap<String, Vec<u64>> = HashMap::new();
        if arrived() >= total {
            for (call, seq) in arrivals(&receiver) {
                let seen = firsts.entry(call).or_default();
                if !seen.contains(&seq) {
                    seen.push(seq);
                }
            }
        }
        if firsts.values().map(Vec::len).sum::<usize>() == total {
            break firsts;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not every event arrived: {} requests for {total} events",
            arrived()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(firsts.len(), CALLS);
    for (call, seqs) in &firsts {
        assert_eq!(seqs, &[0, 1, 2, 3], "{call}'s events arrived out of order");
    }
    let duplicates = arrived() - total;
    eprintln!(
        "{total} events over 3 nodes; {at_kill} delivered when node 2 was killed; \
         {duplicates} duplicates (sent by it and not recorded at the kill)"
    );
    assert!(
        duplicates <= 2 * MAX_IN_FLIGHT as usize,
        "{duplicates} duplicates: more than twice the killed node's max_in_flight ({MAX_IN_FLIGHT})"
    );
    for mut node in nodes {
        let _ = node.child.start_kill();
        let _ = node.child.wait().await;
    }
    db.drop_database().await.unwrap();
}
