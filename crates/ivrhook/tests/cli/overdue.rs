//! Three `ivrhook serve` processes on one PostgreSQL database sweep for overdue calls at once:
//! 300 registered calls with a 2 s deadline and no report, one node SIGKILLed while they
//! sweep. Each call is announced overdue exactly once: 300 events stored for the alert
//! destination, one per call (a redelivery after the kill is the same event, same id).

use crate::proc::*;
use ivrhook_store::postgres::scratch::ScratchDatabase;
use ivrhook_testkit::{eventually_within, Sink, APP};
use serde_json::Value;
use std::{
    collections::{HashMap, HashSet},
    time::Duration,
};

const CALLS: usize = 300;

/// The `call.overdue` events the sink got: each event id with its call.
fn overdue(sink: &Sink) -> HashMap<String, String> {
    (sink.hits().iter())
        .map(|h| h.json())
        .filter(|e| e["type"] == "call.overdue")
        .map(|e| {
            (
                e["id"].as_str().unwrap().to_owned(),
                e["call"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_one_killed_mid_sweep_announce_each_overdue_call_once() {
    let db = ScratchDatabase::for_tests("ivrhook_overdue")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let ops = Sink::start().await;
    let (_guard, dir) = temp_dir();
    let config = format!(
        "database_pool_size = 6\n[alerts]\ndestinations = [\"ops\"]\n\
         [[apps]]\nid = \"{APP}\"\n\
         [[destinations]]\nname = \"ops\"\nkind = \"webhook\"\nurl = \"{}\"\ntimeout = \"2s\"\n",
        ops.url()
    );
    std::fs::write(dir.join("ivrhook.toml"), config).unwrap();
    let args = ["--config", "ivrhook.toml", "--database", db.url.as_str()];
    let (a, b, c) = tokio::join!(serve(&dir, &args), serve(&dir, &args), serve(&dir, &args));
    let mut nodes = [a, b, c];
    let client = crate::http();
    for n in 0..CALLS {
        let base = &nodes[n % 3].base;
        let body = serde_json::json!({"callId": format!("od-{n}"), "reportWithin": "2s"});
        let url = format!("{base}/v1/apps/{APP}/calls");
        let answer = client.post(url).json(&body).send().await.unwrap();
        assert_eq!(answer.status(), 201, "{}", answer.text().await.unwrap());
    }
    wait_until("the first overdue call announced", || {
        !overdue(&ops).is_empty()
    })
    .await;
    nodes[1].child.start_kill().unwrap();
    nodes[1].child.wait().await.unwrap();
    let live = nodes[0].base.clone();
    eventually_within("every call announced", Duration::from_secs(120), || async {
        overdue(&ops).values().collect::<HashSet<_>>().len() == CALLS
            && deliveries_in(&live, "ops", "pending").await == 0
    })
    .await;
    let events = overdue(&ops);
    assert_eq!(
        events.len(),
        CALLS,
        "one event per call, each delivered with its own id"
    );
    let calls: HashSet<&String> = events.values().collect();
    assert_eq!(calls.len(), CALLS, "each call once");
    assert_eq!(
        deliveries_in(&live, "ops", "delivered").await,
        CALLS,
        "stored once each"
    );
    // A sweep marks its calls once it has stored their announcements.
    let url = format!("{live}/v1/calls?state=overdue&limit=1000");
    eventually_within(
        "every call listed overdue",
        Duration::from_secs(30),
        || async {
            let listed: Value = client.get(&url).send().await.unwrap().json().await.unwrap();
            listed["calls"].as_array().unwrap().len() == CALLS
        },
    )
    .await;
    assert_eq!(
        overdue(&ops).len(),
        CALLS,
        "nothing announced twice meanwhile"
    );
    for node in &mut nodes {
        // The killed one is gone already: killing it again is refused, and that is fine.
        let _ = node.child.start_kill();
        let _ = node.child.wait().await;
    }
    db.drop_database().await.unwrap();
}
