//! Activity counted for the store: what the receiver answered, per app and code, and each
//! destination's attempts, written within a second of happening, on both backends.

use crate::helpers::*;
use ivrhook_testkit::Sink;
use std::collections::BTreeMap;

/// (app, what, destination, label) → the sum over every stored minute.
type Counts = BTreeMap<(String, String, String, String), i64>;

const SUMS: &str = "SELECT app_id, what, destination, label, CAST(SUM(n) AS BIGINT) \
                    FROM activity GROUP BY app_id, what, destination, label";

/// What the server's database holds now, read beside the running server.
async fn stored(app: &TestApp) -> Counts {
    match app.database_url.strip_prefix("sqlite://") {
        Some(path) => {
            let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
            let conn = rusqlite::Connection::open_with_flags(path, flags).unwrap();
            let mut stmt = conn.prepare(SUMS).unwrap();
            let rows = stmt.query_map([], |r| {
                Ok(((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?), r.get(4)?))
            });
            rows.unwrap().map(Result::unwrap).collect()
        }
        None => {
            let (client, conn) = tokio_postgres::connect(&app.database_url, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(conn);
            let rows = client.query(SUMS, &[]).await.unwrap();
            (rows.iter())
                .map(|r| ((r.get(0), r.get(1), r.get(2), r.get(3)), r.get(4)))
                .collect()
        }
    }
}

fn key(app: &str, what: &str, destination: &str, label: &str) -> (String, String, String, String) {
    (app.into(), what.into(), destination.into(), label.into())
}

fn config(sink: &Sink) -> String {
    format!(
        "[[apps]]\nid = \"{APP}\"\n\
         [[destinations]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"{}\"\n",
        sink.url()
    )
}

/// Three reports, one of them twice, one refused as bad input and one of an unknown app:
/// each counted under its app and answer; the destination's three attempts under it.
async fn counts_what_happened(app: TestApp) {
    for n in 0..3 {
        let body = call_report(&format!("act-{n}"), n, 0, None).to_string();
        assert_eq!(app.post_callback(body).await.code, "000000");
    }
    let again = call_report("act-0", 0, 0, None).to_string();
    assert_eq!(app.post_callback(again).await.code, "000000");
    let bad = serde_json::json!({"appId": APP, "event": "multrpt"}).to_string();
    assert_eq!(app.post_callback(bad).await.code, "108100");
    let mut stranger = call_report("act-x", 0, 0, None);
    stranger["appId"] = "not-configured".into();
    assert_eq!(app.post_callback(stranger.to_string()).await.code, "108101");
    delivered(&app, "hook", 3).await;
    let mut want = Counts::new();
    want.insert(key(APP, "received", "", "000000"), 3);
    want.insert(key(APP, "duplicate", "", ""), 1);
    want.insert(key(APP, "received", "", "108100"), 1);
    want.insert(key("-", "received", "", "108101"), 1);
    want.insert(key(APP, "attempt", "hook", "delivered"), 3);
    let answered = |c: &Counts| -> i64 {
        (c.iter())
            .filter(|((a, what, d, _), _)| a == APP && what == "answer" && d == "hook")
            .map(|(_, n)| n)
            .sum()
    };
    eventually("the counts to be stored", || async {
        let now = stored(&app).await;
        want.iter().all(|(k, n)| now.get(k) == Some(n)) && answered(&now) == 3
    })
    .await;
    let now = stored(&app).await;
    let whats = now.keys().filter(|k| k.1 != "answer").count();
    assert_eq!(whats, want.len(), "nothing else counted: {now:?}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activity_is_counted_in_the_store_on_sqlite() {
    let sink = Sink::start().await;
    counts_what_happened(spawn_with(&config(&sink)).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activity_is_counted_in_the_store_on_postgres() {
    let sink = Sink::start().await;
    counts_what_happened(spawn_on_postgres("activity", &config(&sink)).await).await;
}

/// `[retention] activity`: counts (the overview's and the analytics') older than it go, oldest
/// first, in steps; a dry run only
/// counts them; newer ones stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_prunes_old_activity() {
    use ivrhook_server::{config::Retention, retention::prune};
    use ivrhook_store::activity::{Count, CountKey, What};
    let dir = tempfile::tempdir().unwrap();
    let url: ivrhook_store::DatabaseUrl = format!("sqlite://{}", dir.path().join("a.db").display())
        .parse()
        .unwrap();
    let store = ivrhook_store::open(&url, None, Default::default())
        .await
        .unwrap();
    let now_min = 30_000_000;
    let count = |at_min| Count {
        key: CountKey {
            at_min,
            span_min: 1,
            app_id: APP.into(),
            what: What::Duplicate,
            destination: String::new(),
            label: String::new(),
        },
        n: 1,
    };
    // 1,200 minutes older than a day (more than two steps of 500), and 10 within it.
    let old: Vec<Count> = (0..1_200).map(|m| count(now_min - 2_000 - m)).collect();
    store.add_activity(&old).await.unwrap();
    let new: Vec<Count> = (0..10).map(|m| count(now_min - m)).collect();
    store.add_activity(&new).await.unwrap();
    let retention = Retention {
        reports: None,
        delivered: None,
        dead: None,
        recordings: None,
        activity: Some(std::time::Duration::from_secs(86_400)),
        every: std::time::Duration::from_secs(60),
    };
    // And the analytics' hours: 700 older than a day, 3 within it.
    let hour = |at_min| ivrhook_store::analytics::Count {
        key: ivrhook_store::analytics::Key {
            app_id: APP.into(),
            at_min,
            span_min: 60,
            position: 1,
            prompt: "menu".into(),
            measure: ivrhook_store::analytics::Measure::Played,
            label: String::new(),
        },
        n: 1,
    };
    let hours: Vec<_> = (0..700).map(|h| hour(now_min - 2_000 - h * 60)).collect();
    store.add_analytics(&hours).await.unwrap();
    let recent: Vec<_> = (0..3).map(|h| hour(now_min - h * 60)).collect();
    store.add_analytics(&recent).await.unwrap();
    let now_ms = now_min * 60_000;
    let dry = prune(store.as_ref(), &retention, None, now_ms, true, None);
    assert_eq!(
        dry.await.unwrap(),
        [("activity", 1_200), ("analytics", 700)]
    );
    assert_eq!(
        store.activity(i64::MIN, i64::MAX).await.unwrap().len(),
        1_210
    );
    let removed = prune(store.as_ref(), &retention, None, now_ms, false, None);
    assert_eq!(
        removed.await.unwrap(),
        [("activity", 1_200), ("analytics", 700)]
    );
    let kept = store.analytics(APP, i64::MIN, i64::MAX).await.unwrap();
    assert_eq!(kept.len(), 3, "the analytics within a day stay");
    let left = store.activity(i64::MIN, i64::MAX).await.unwrap();
    assert_eq!(left.len(), 10);
    assert!(left.iter().all(|c| c.key.at_min > now_min - 1_440));
    store.close().await;
}

/// Two nodes on one PostgreSQL database add to the same counts: each node's overview shows
/// the reports both received.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_add_to_the_same_counts() {
    let sink = Sink::start().await;
    let a = spawn_on_postgres("activity_two", &config(&sink)).await;
    let b = spawn_with_database(&a.database_url, &config(&sink)).await;
    for (node, n) in [(&a, 0), (&a, 1), (&b, 2), (&b, 3), (&b, 4)] {
        let body = call_report(&format!("two-{n}"), n, 0, None).to_string();
        assert_eq!(node.post_callback(body).await.code, "000000");
    }
    let received = key(APP, "received", "", "000000");
    eventually("both nodes' counts to be stored", || async {
        stored(&a).await.get(&received) == Some(&5)
    })
    .await;
    for node in [&a, &b] {
        let page = node.client.get(node.url("/")).send().await.unwrap();
        let html = page.text().await.unwrap();
        assert!(
            html.contains("Reports received</strong> — 5 reports"),
            "{html}"
        );
    }
    b.stop().await;
    a.stop().await;
}
