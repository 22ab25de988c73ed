//! The server on PostgreSQL: the receiver's codes and timeline, the sender end to end, and two
//! nodes sharing one database with split roles. Each test has its own scratch database.

use crate::helpers::*;
use serde_json::Value;

#[tokio::test]
async fn the_receiver_on_postgres_stores_dedupes_and_shows_the_timeline() {
    let app = spawn_on_postgres("receiver", "").await;
    for name in [
        "seed-example-all-succeeded.json",
        "seed-example-partly-not-executed.json",
    ] {
        assert_eq!(
            app.post_callback(fixture(name)).await.code,
            "000000",
            "{name}"
        );
    }
    let again = app
        .post_callback(fixture("seed-example-all-succeeded.json"))
        .await;
    assert_eq!(again.code, "000000");
    assert_eq!(again.msg, "accepted before: duplicate of a stored report");
    let reports = app
        .timeline("88-2018031000182918181271218-108bc381ca0f42d8-out")
        .await;
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0]["duplicates"], 1);
    assert_eq!(
        reports[0]["commands"][0]["start"],
        "2018-01-12T17:23:22.010+08:00"
    );
    assert_eq!(
        reports[0]["raw"].as_str().unwrap().as_bytes(),
        fixture("seed-example-all-succeeded.json")
    );
    assert_eq!(
        reports[1]["hangup"]["time"],
        "2018-01-18T20:44:44.584+08:00"
    );
    app.stop().await;
}

async fn wait_delivered(app: &TestApp, id: &Value) -> Value {
    let path = format!("/v1/deliveries/{id}");
    eventually("the delivery to be delivered", || async {
        app.get(&path).await.1["delivery"]["state"] == "delivered"
    })
    .await;
    app.get(&path).await.1
}

async fn submit(app: &TestApp, call: &str) -> Value {
    let resp = app
        .client
        .post(app.url(&format!("/v1/apps/{APP}/events")))
        .body(report(call).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    resp.json::<Value>().await.unwrap()["deliveryId"].clone()
}

/// Waits until a node LISTENs on the database (only delivering nodes do), so the event below
/// can only reach the deliverer through its NOTIFY or the 2 s backstop, not its start-up read.
async fn wait_for_listener(url: &str) {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    eventually("the deliver-only node to LISTEN", || async {
        let row = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND query LIKE 'LISTEN%'",
                &[],
            )
            .await
            .unwrap();
        row.get::<_, i64>(0) == 1
    })
    .await;
}

#[tokio::test]
async fn a_receive_only_node_accepts_events_that_a_deliver_only_node_sends() {
    let receiver = spawn_app().await;
    let apps = format!(
        "[[apps]]\nid = \"{APP}\"\ncallback_url = \"{}\"\n",
        receiver.url("/callback")
    );
    let front = spawn_on_postgres("roles", &format!("roles = [\"receive\"]\n{apps}")).await;
    // The second node shares the first one's database (it is dropped with the first).
    let back = spawn_with_database(
        &front.database_url,
        &format!("roles = [\"deliver\"]\n{apps}"),
    )
    .await;

    wait_for_listener(&front.database_url).await;
    let id = submit(&front, "pg-split").await;
    let done = wait_delivered(&back, &id).await;
    assert_eq!(done["attempts"][0]["code"], "000000");
    assert_eq!(receiver.timeline("pg-split").await.len(), 1);
    // The front node sends nothing itself; the back node was woken by the front's NOTIFY.
    let series = format!(
        "ivrhook_delivery_attempts_total{{destination=\"app:{APP}\",outcome=\"delivered\"}}"
    );
    assert_eq!(back.metric(&series).await, 1.0);
    assert!(back.metric("ivrhook_remote_wakeups_total").await >= 1.0);
    // Roles: the deliver-only node has no callback path; the receive-only node has.
    let resp = back
        .client
        .post(back.url("/callback"))
        .body(report("x").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(
        front.post_callback(report("pg-in").to_string()).await.code,
        "000000"
    );
    back.stop().await;
    front.stop().await;
    receiver.stop().await;
}

/// A node's own announcements come back to its listener and are dropped: its engine was
/// woken directly. Another node's are followed. (The test's NOTIFY is sent after the node's
/// arrived at the test's own listener, and a listener gets notifications in commit order, so
/// once the node has counted the test's, it has seen its own.) The first attempt waits a
/// second, so the event is not sent from its submission (which would announce nothing).
#[tokio::test]
async fn a_node_does_not_wake_itself_with_its_own_announcements() {
    let receiver = spawn_app().await;
    let apps = format!(
        "[[apps]]\nid = \"{APP}\"\ncallback_url = \"{}\"\nretry_schedule = [\"1s\", \"5s\"]\n",
        receiver.url("/callback")
    );
    let node = spawn_on_postgres("self_notify", &apps).await;
    wait_for_listener(&node.database_url).await;
    let (client, mut conn) = tokio_postgres::connect(&node.database_url, tokio_postgres::NoTls)
        .await
        .unwrap();
    let (seen_tx, mut seen) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(Ok(m)) = std::future::poll_fn(|cx| conn.poll_message(cx)).await {
            if let tokio_postgres::AsyncMessage::Notification(n) = m {
                let _ = seen_tx.send(n.payload().to_owned());
            }
        }
    });
    client.batch_execute("LISTEN ivrhook_due").await.unwrap();

    let id = submit(&node, "pg-self").await;
    wait_delivered(&node, &id).await;
    let own = tokio::time::timeout(std::time::Duration::from_secs(10), seen.recv())
        .await
        .expect("the node announced its event")
        .unwrap();
    assert!(own.ends_with(&format!(" app:{APP}")), "{own}");
    client
        .batch_execute(&format!("NOTIFY ivrhook_due, 'another-node app:{APP}'"))
        .await
        .unwrap();
    eventually("the other node's announcement to be followed", || async {
        node.metric("ivrhook_remote_wakeups_total").await >= 1.0
    })
    .await;
    assert_eq!(
        node.metric("ivrhook_remote_wakeups_total").await,
        1.0,
        "the node was woken by its own announcement"
    );
    node.stop().await;
    receiver.stop().await;
}

#[tokio::test]
async fn a_database_that_goes_away_is_108104_and_the_receiver_recovers_by_itself() {
    let app = spawn_on_postgres("goes_away", "").await;
    assert_eq!(
        app.post_callback(report("before").to_string()).await.code,
        "000000"
    );
    // The database disappears under the running server (its connections are terminated).
    let server = ivrhook_store::postgres::scratch::test_server_url();
    let (admin, conn) = tokio_postgres::connect(&server, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    admin
        .batch_execute("DROP DATABASE ivrhook_it_goes_away WITH (FORCE)")
        .await
        .unwrap();
    let a = app.post_callback(report("during").to_string()).await;
    assert_eq!(a.code, "108104", "{}", a.msg);
    assert_eq!(
        a.msg,
        "internal error: the report was not stored; retry later"
    );
    let (status, _) = app.get("/healthz").await;
    assert_eq!(status, 503);
    // It comes back (restored empty and migrated); the server needs no restart.
    admin
        .batch_execute("CREATE DATABASE ivrhook_it_goes_away")
        .await
        .unwrap();
    ivrhook_store::postgres::PgStore::migrate(&app.database_url)
        .await
        .unwrap();
    eventually("the receiver to store again", || async {
        app.post_callback(report("after").to_string()).await.code == "000000"
    })
    .await;
    assert_eq!(app.timeline("after").await.len(), 1);
    app.stop().await;
}
