//! Each of the six codes over real HTTP, and the durability and dedupe rules around `000000`.

use crate::helpers::*;
use ivrhook_protocol::ResponseCode;
use serde_json::{json, Value};

fn code(a: &ivrhook_protocol::Answer) -> ResponseCode {
    a.response_code()
        .unwrap_or_else(|| panic!("unknown code in {a:?}"))
}

#[tokio::test]
async fn both_fixtures_are_accepted_and_their_timeline_shows_commands_and_hang_up() {
    let app = spawn_app().await;
    for name in [
        "seed-example-all-succeeded.json",
        "seed-example-partly-not-executed.json",
    ] {
        let a = app.post_callback(fixture(name)).await;
        assert_eq!(
            (a.code.as_str(), a.msg.as_str()),
            ("000000", "accepted"),
            "{name}"
        );
    }
    let reports = app
        .timeline("88-2018031000182918181271218-108bc381ca0f42d8-out")
        .await;
    assert_eq!(reports.len(), 2, "two different reports for the same call");
    let first = &reports[0];
    assert_eq!(first["schemaVersion"], 1, "the one decoded form: {first}");
    assert_eq!(first["status"], "completed");
    assert_eq!(first["hangup"], Value::Null);
    let cmd = &first["commands"][0];
    assert_eq!(cmd["code"], "0");
    assert_eq!(cmd["start"], "2018-01-12T17:23:22.010+08:00");
    assert_eq!(cmd["kind"], "unknown", "no event, no keys");
    assert_eq!(cmd["durationMs"], 0);
    assert_eq!(cmd["data"], "userdata 1");
    assert_eq!(
        first["commands"][3],
        json!({"kind": "unrecognised", "value": "value"})
    );
    assert_eq!(first["warnings"][0]["field"], "isNonProfit[3]");
    assert_eq!(
        first["raw"].as_str().unwrap().as_bytes(),
        fixture("seed-example-all-succeeded.json")
    );
    let hangup = &reports[1]["hangup"];
    assert_eq!(hangup["decoded"], true);
    assert_eq!(hangup["reason"], "0");
    assert_eq!(hangup["direction"], "1");
    assert_eq!(hangup["time"], "2018-01-18T20:44:44.584+08:00");
    assert!(hangup["recordingUrl"]
        .as_str()
        .unwrap()
        .ends_with("-76988499681.wav"));
    assert!(reports[1]["peer"]
        .as_str()
        .unwrap()
        .starts_with("127.0.0.1:"));
    app.stop().await;
}

#[tokio::test]
async fn bad_input_is_108100_naming_the_field() {
    let app = spawn_with("[inbound]\nmax_body_bytes = 4096").await;
    let with = |field: &str, value: Value| {
        let mut r = report("c-bad");
        r[field] = value;
        r.to_string().into_bytes()
    };
    let without = |field: &str| {
        let mut r = report("c-bad");
        r.as_object_mut().unwrap().remove(field);
        r.to_string().into_bytes()
    };
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"not json".to_vec(), "body: is not valid JSON"),
        (b"\xff\xfe\x00{}".to_vec(), "body: is not UTF-8"),
        (b"[]".to_vec(), "body: must be a JSON object, got an array"),
        (b"".to_vec(), "body: is not valid JSON"),
        (without("appId"), "appId: required field is missing"),
        (without("callId"), "callId: required field is missing"),
        (without("event"), "event: required field is missing"),
        (without("result"), "result: required field is missing"),
        (without("status"), "status: required field is missing"),
        (
            with("appId", json!(12)),
            "appId: must be a string, got a number",
        ),
        (with("callId", json!("")), "callId: must not be empty"),
        (
            with("result", json!("x")),
            "result: must be an array, got a string",
        ),
        (
            with("status", json!(3)),
            "status: must be 0 (completed) or 1 (hung up early), got 3",
        ),
        (
            with("data", json!("x".repeat(5000))),
            "body: larger than inbound.max_body_bytes (4096 bytes)",
        ),
    ];
    for (body, expected) in cases {
        let a = app.post_callback(body).await;
        assert_eq!(code(&a), ResponseCode::BadInput, "{expected}");
        assert!(
            a.msg.starts_with(expected),
            "{:?} should start with {expected:?}",
            a.msg
        );
    }
    let (status, _) = app.get("/v1/calls/c-bad").await;
    assert_eq!(status, 404, "nothing refused was stored");
    app.stop().await;
}

#[tokio::test]
async fn a_bom_and_a_non_json_content_type_are_fine() {
    let app = spawn_app().await;
    let mut body = b"\xEF\xBB\xBF".to_vec();
    body.extend(report("c-bom").to_string().into_bytes());
    assert_eq!(code(&app.post_callback(body).await), ResponseCode::Success);
    let resp = app
        .client
        .post(app.url("/callback"))
        .header("content-type", "text/plain")
        .body(report("c-text").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.json::<ivrhook_protocol::Answer>().await.unwrap().code,
        "000000"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_unconfigured_app_is_108101_but_bad_input_is_checked_first() {
    let app = spawn_with(&format!("[[apps]]\nid = \"{APP}\"")).await;
    let mut other = report("c-1");
    other["appId"] = json!("0000000000000000000000000000ffff");
    let a = app.post_callback(other.to_string()).await;
    assert_eq!(code(&a), ResponseCode::UnknownApp);
    assert!(
        a.msg
            .starts_with("appId: 0000000000000000000000000000ffff is not an app"),
        "{}",
        a.msg
    );
    other["status"] = json!(9);
    assert_eq!(
        code(&app.post_callback(other.to_string()).await),
        ResponseCode::BadInput
    );
    assert_eq!(
        code(&app.post_callback(report("c-1").to_string()).await),
        ResponseCode::Success
    );
    app.stop().await;
}

#[tokio::test]
async fn an_unregistered_call_is_108105_until_the_business_registers_it() {
    let app = spawn_with(&format!(
        "[[apps]]\nid = \"{APP}\"\nrequire_known_calls = true"
    ))
    .await;
    let body = report("c-placed").to_string();
    let a = app.post_callback(body.clone()).await;
    assert_eq!(code(&a), ResponseCode::UnknownCall);
    assert!(
        a.msg
            .starts_with("callId: c-placed is not a registered call"),
        "{}",
        a.msg
    );
    let mut bad = report("c-placed");
    bad["event"] = json!(1);
    assert_eq!(
        code(&app.post_callback(bad.to_string()).await),
        ResponseCode::BadInput
    );

    let register = |call: &str| {
        app.client
            .post(app.url(&format!("/v1/apps/{APP}/calls")))
            .json(&json!({"callId": call}))
            .send()
    };
    assert_eq!(register("c-placed").await.unwrap().status(), 201);
    assert_eq!(
        register("c-placed").await.unwrap().status(),
        200,
        "registering twice is harmless"
    );
    let (status, call) = app.get("/v1/calls/c-placed").await;
    assert_eq!(
        status, 200,
        "a registered call has a timeline before any report: {call}"
    );
    assert_eq!(call["registeredWith"], json!([APP]), "{call}");
    assert_eq!(call["reports"], json!([]), "{call}");
    let (status, _) = app.get("/v1/calls/c-never").await;
    assert_eq!(status, 404, "neither registered nor reported");
    assert_eq!(code(&app.post_callback(body).await), ResponseCode::Success);
    let resp = app
        .client
        .post(app.url(&format!("/v1/apps/{APP}/calls")))
        .json(&json!({"call": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["error"]["field"],
        "callId"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_full_write_queue_is_108102_and_the_queued_report_still_lands() {
    let app = spawn_with("[inbound]\nqueue_capacity = 1").await;
    // Another connection holds the database's write lock, so the writer cannot commit.
    let blocker = rusqlite::Connection::open(&app.db_path).unwrap();
    blocker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let first = app.spawn_post(report("c-first").to_string());
    eventually("the first report to wait in the write path", || async {
        app.metric("ivrhook_inbound_backlog").await == 1.0
    })
    .await;
    let a = app.post_callback(report("c-second").to_string()).await;
    assert_eq!(code(&a), ResponseCode::QueueFull);
    assert!(a.msg.starts_with("queue full"), "{}", a.msg);
    blocker.execute_batch("COMMIT").unwrap();
    assert_eq!(first.await.unwrap().code, "000000");
    assert_eq!(app.timeline("c-first").await.len(), 1);
    assert_eq!(app.get("/v1/calls/c-second").await.0, 404);
    assert_eq!(
        app.metric("ivrhook_inbound_reports_total{code=\"108102\"}")
            .await,
        1.0
    );
    app.stop().await;
}

#[tokio::test]
async fn a_store_failure_is_108104_and_the_store_recovers() {
    let app = spawn_app().await;
    let db = rusqlite::Connection::open(&app.db_path).unwrap();
    db.execute_batch(
        "CREATE TRIGGER fail_inserts BEFORE INSERT ON reports
         BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
    )
    .unwrap();
    let a = app.post_callback(report("c-fail").to_string()).await;
    assert_eq!(code(&a), ResponseCode::OtherError);
    assert_eq!(
        a.msg,
        "internal error: the report was not stored; retry later"
    );
    db.execute_batch("DROP TRIGGER fail_inserts").unwrap();
    assert_eq!(
        code(&app.post_callback(report("c-fail").to_string()).await),
        ResponseCode::Success
    );
    assert_eq!(app.timeline("c-fail").await.len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn duplicates_are_accepted_stored_once_and_counted() {
    let app = spawn_app().await;
    let body = report("c-dup");
    let sends: Vec<_> = (0..8).map(|_| app.spawn_post(body.to_string())).collect();
    for send in sends {
        assert_eq!(code(&send.await.unwrap()), ResponseCode::Success);
    }
    // The same content with other whitespace is the same report.
    let pretty = serde_json::to_string_pretty(&body).unwrap();
    assert_eq!(
        code(&app.post_callback(pretty).await),
        ResponseCode::Success
    );
    let reports = app.timeline("c-dup").await;
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0]["duplicates"], 8);
    assert_eq!(app.metric("ivrhook_inbound_duplicates_total").await, 8.0);
    let mut changed = body.clone();
    changed["status"] = json!(1);
    assert_eq!(app.post_callback(changed.to_string()).await.msg, "accepted");
    assert_eq!(
        app.timeline("c-dup").await.len(),
        2,
        "other content for the call is a new report"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_stalled_body_is_108100_after_the_body_timeout() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_with("[inbound]\nbody_timeout = \"200ms\"").await;
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let head = "POST /callback HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"appId\":";
    stream.write_all(head.as_bytes()).await.unwrap();
    // The rest of the body never comes; the answer must, within the test's deadline.
    let mut answer = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        let mut buf = [0u8; 1024];
        loop {
            let n = stream.read(&mut buf).await.unwrap();
            answer.extend_from_slice(&buf[..n]);
            if n == 0 || String::from_utf8_lossy(&answer).contains("}") {
                break;
            }
        }
    })
    .await;
    assert!(read.is_ok(), "no answer to a stalled body");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        text.contains(r#""code":"108100""#) && text.contains("inbound.body_timeout"),
        "{text}"
    );
    app.stop().await;
}
